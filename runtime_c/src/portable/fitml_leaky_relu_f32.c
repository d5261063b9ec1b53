/**
 * @file fitml_leaky_relu_f32.c
 * @brief float32 LEAKY_RELU as TFLite's reference: x > 0 ? x : x * alpha.
 */
#include "fitml/fitml_activation.h"

fitml_status fitml_leaky_relu_f32(const fitml_leaky_relu_f32_params *p, const float *input,
                                  float *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const float x = input[i];
        output[i] = x > 0.0f ? x : x * p->alpha;
    }
    return FITML_OK;
}
