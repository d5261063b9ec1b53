/**
 * @file fitml_log_softmax_f32.c
 * @brief float32 LOG_SOFTMAX over the last axis (TFLM reference_ops::LogSoftmax).
 */
#include <float.h>
#include <math.h>

#include "fitml/fitml_math.h"

fitml_status fitml_log_softmax_f32(const fitml_softmax_f32_params *p, const float *input,
                                   float *output)
{
    int32_t r, c;
    if (p == NULL || input == NULL || output == NULL || p->rows < 0 || p->depth < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (r = 0; r < p->rows; r++) {
        const float *x = input + (size_t)r * p->depth;
        float *y = output + (size_t)r * p->depth;
        float max = -FLT_MAX, sum = 0.0f, log_sum;
        for (c = 0; c < p->depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < p->depth; c++) {
            sum += expf(x[c] - max);
        }
        log_sum = logf(sum);
        for (c = 0; c < p->depth; c++) {
            y[c] = x[c] - max - log_sum;
        }
    }
    return FITML_OK;
}
