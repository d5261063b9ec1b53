/**
 * @file fitml_fully_connected_f32.c
 * @brief float32 FULLY_CONNECTED in TFLite reference order: sum over k, + bias, clamp.
 */
#include "fitml/fitml_fully_connected.h"

fitml_status fitml_fully_connected_f32(const fitml_fully_connected_f32_params *p,
                                       const float *input, float *output)
{
    int32_t b, n, k;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->batches < 0
        || p->input_size < 0 || p->output_size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (b = 0; b < p->batches; b++) {
        const float *x = input + (size_t)b * p->input_size;
        for (n = 0; n < p->output_size; n++) {
            const float *w = p->filter + (size_t)n * p->input_size;
            float total = 0.0f;
            for (k = 0; k < p->input_size; k++) {
                total += x[k] * w[k];
            }
            total += p->bias != NULL ? p->bias[n] : 0.0f;
            total = total < p->act_min ? p->act_min : total;
            *output++ = total > p->act_max ? p->act_max : total;
        }
    }
    return FITML_OK;
}
