/**
 * @file fitml_abs_f32.c
 * @brief float32 ABS.
 */
#include <math.h>

#include "fitml/fitml_math.h"

fitml_status fitml_abs_f32(const fitml_size_params *p, const float *input, float *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        output[i] = fabsf(input[i]);
    }
    return FITML_OK;
}
