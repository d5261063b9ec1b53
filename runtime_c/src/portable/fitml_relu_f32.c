/**
 * @file fitml_relu_f32.c
 * @brief float32 RELU / RELU6 / RELU_N1_TO_1 as one clamp.
 */
#include "fitml/fitml_activation.h"

fitml_status fitml_relu_f32(const fitml_clamp_f32_params *p, const float *input, float *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const float v = input[i] < p->act_min ? p->act_min : input[i];
        output[i] = v > p->act_max ? p->act_max : v;
    }
    return FITML_OK;
}
