/**
 * @file fitml_tanh_f32.c
 * @brief float32 TANH (tanhf).
 */
#include <math.h>

#include "fitml/fitml_activation.h"

fitml_status fitml_tanh_f32(const fitml_size_params *p, const float *input, float *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        output[i] = tanhf(input[i]);
    }
    return FITML_OK;
}
