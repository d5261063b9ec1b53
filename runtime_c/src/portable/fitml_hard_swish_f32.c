/**
 * @file fitml_hard_swish_f32.c
 * @brief float32 HARD_SWISH as TFLite's reference: x * min(6, max(0, x + 3)) / 6.
 *
 * Comparisons instead of fminf/fmaxf, so a NaN input stays NaN (as in the reference) and no
 * libm is needed.
 */
#include "fitml/fitml_activation.h"

fitml_status fitml_hard_swish_f32(const fitml_size_params *p, const float *input, float *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const float x = input[i];
        float relu6 = x + 3.0f;
        relu6 = relu6 < 0.0f ? 0.0f : relu6;
        relu6 = relu6 > 6.0f ? 6.0f : relu6;
        output[i] = x * relu6 / 6.0f;
    }
    return FITML_OK;
}
