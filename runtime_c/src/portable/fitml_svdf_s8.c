/**
 * @file fitml_svdf_s8.c
 * @brief int8 SVDF with int16 state (TFLM EvalIntegerSvdfReference<int16_t>): int32 sums wrap
 *        as two's complement (unsigned arithmetic), requantized with MBQM.
 */
#include "fitml/fitml_svdf.h"
#include "fitml/fitml_support.h"

fitml_status fitml_svdf_s8(const fitml_svdf_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t b, f, k, m, u, r, units;
    size_t total, i;
    if (p == NULL || input == NULL || output == NULL || p->weights_feature == NULL
        || p->weights_time == NULL || p->state == NULL || p->batches < 0 || p->input_size < 0
        || p->num_filters < 0 || p->memory_size <= 0 || p->rank <= 0
        || p->num_filters % p->rank != 0) {
        return FITML_ERR_ARGUMENT;
    }
    units = p->num_filters / p->rank;
    total = (size_t)p->batches * (size_t)p->num_filters * (size_t)p->memory_size;
    for (i = 0; i + 1 < total; i++) {
        p->state[i] = p->state[i + 1];
    }
    for (b = 0; b < p->batches; b++) {
        const int8_t *x = input + (size_t)b * p->input_size;
        int16_t *state = p->state + (size_t)b * p->num_filters * p->memory_size;
        for (f = 0; f < p->num_filters; f++) {
            const int8_t *w = p->weights_feature + (size_t)f * p->input_size;
            uint32_t dot = 0u;
            int32_t v;
            for (k = 0; k < p->input_size; k++) {
                dot += (uint32_t)((int32_t)w[k] * ((int32_t)x[k] - p->input_zp));
            }
            v = fitml_mbqm((int32_t)dot, p->feature_multiplier, p->feature_shift) + p->state_zp;
            state[(size_t)f * p->memory_size + (size_t)p->memory_size - 1] =
                (int16_t)fitml_clamp(v, -32768, 32767);
        }
        for (u = 0; u < units; u++) {
            uint32_t sum = p->bias != NULL ? (uint32_t)p->bias[u] : 0u;
            for (r = 0; r < p->rank; r++) {
                const size_t row = (size_t)(u * p->rank + r) * p->memory_size;
                for (m = 0; m < p->memory_size; m++) {
                    sum += (uint32_t)((int32_t)p->weights_time[row + m]
                                      * ((int32_t)state[row + m] - p->state_zp));
                }
            }
            output[(size_t)b * units + u] = fitml_requant_s8(
                (int32_t)sum, p->output_multiplier, p->output_shift, p->output_zp, -128, 127);
        }
    }
    return FITML_OK;
}
