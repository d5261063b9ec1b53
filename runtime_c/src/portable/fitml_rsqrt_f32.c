/**
 * @file fitml_rsqrt_f32.c
 * @brief float32 RSQRT: 1.0f / sqrtf(x) per element.
 */
#include <math.h>

#include "fitml/fitml_math.h"

fitml_status fitml_rsqrt_f32(const fitml_size_params *p, const float *input, float *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        output[i] = 1.0f / sqrtf(input[i]);
    }
    return FITML_OK;
}
