/**
 * @file fitml_neg_f32.c
 * @brief float32 NEG.
 */
#include "fitml/fitml_math.h"

fitml_status fitml_neg_f32(const fitml_size_params *p, const float *input, float *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        output[i] = -input[i];
    }
    return FITML_OK;
}
