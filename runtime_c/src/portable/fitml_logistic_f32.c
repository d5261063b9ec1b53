/**
 * @file fitml_logistic_f32.c
 * @brief float32 LOGISTIC as TFLite's reference, with its cutoffs.
 */
#include <math.h>

#include "fitml/fitml_activation.h"

fitml_status fitml_logistic_f32(const fitml_size_params *p, const float *input, float *output)
{
    const float cutoff_upper = 16.619047164916992188f;
    const float cutoff_lower = -9.0f;
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const float v = input[i];
        if (v > cutoff_upper) {
            output[i] = 1.0f;
        } else if (v < cutoff_lower) {
            output[i] = expf(v);
        } else {
            output[i] = 1.0f / (1.0f + expf(-v));
        }
    }
    return FITML_OK;
}
