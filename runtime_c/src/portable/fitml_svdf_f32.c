/**
 * @file fitml_svdf_f32.c
 * @brief float32 SVDF: shift the state, project the input into its last frame, filter in time,
 *        sum each unit's rank filters onto the bias (TFLM's order), clamp.
 */
#include "fitml/fitml_svdf.h"

fitml_status fitml_svdf_f32(const fitml_svdf_f32_params *p, const float *input, float *output)
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
        const float *x = input + (size_t)b * p->input_size;
        float *state = p->state + (size_t)b * p->num_filters * p->memory_size;
        for (f = 0; f < p->num_filters; f++) {
            const float *w = p->weights_feature + (size_t)f * p->input_size;
            float dot = 0.0f;
            for (k = 0; k < p->input_size; k++) {
                dot += w[k] * x[k];
            }
            state[(size_t)f * p->memory_size + (size_t)p->memory_size - 1] = dot;
        }
        for (u = 0; u < units; u++) {
            float sum = p->bias != NULL ? p->bias[u] : 0.0f;
            for (r = 0; r < p->rank; r++) {
                const size_t row = (size_t)(u * p->rank + r) * p->memory_size;
                float dot = 0.0f;
                for (m = 0; m < p->memory_size; m++) {
                    dot += p->weights_time[row + m] * state[row + m];
                }
                sum += dot;
            }
            sum = sum < p->act_min ? p->act_min : sum;
            output[(size_t)b * units + u] = sum > p->act_max ? p->act_max : sum;
        }
    }
    return FITML_OK;
}
