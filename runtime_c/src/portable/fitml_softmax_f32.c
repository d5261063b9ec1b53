/**
 * @file fitml_softmax_f32.c
 * @brief float32 SOFTMAX as TFLite's reference: exp((x - max) * beta), summed in order, divided.
 */
#include <math.h>

#include "fitml/fitml_activation.h"

fitml_status fitml_softmax_f32(const fitml_softmax_f32_params *p, const float *input,
                               float *output)
{
    int32_t r, c;
    if (p == NULL || input == NULL || output == NULL || p->rows < 0 || p->depth < 0) {
        return FITML_ERR_ARGUMENT;
    }
    if (p->depth == 0) {
        return FITML_OK;
    }
    for (r = 0; r < p->rows; r++) {
        const float *x = input + (size_t)r * p->depth;
        float *y = output + (size_t)r * p->depth;
        float max = x[0], sum = 0.0f;
        for (c = 1; c < p->depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < p->depth; c++) {
            y[c] = expf((x[c] - max) * p->beta);
            sum += y[c];
        }
        for (c = 0; c < p->depth; c++) {
            y[c] = y[c] / sum;
        }
    }
    return FITML_OK;
}
