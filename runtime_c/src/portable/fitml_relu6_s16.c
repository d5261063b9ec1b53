/**
 * @file fitml_relu6_s16.c
 * @brief int16 RELU6 (TFLM Relu6Quantized): clamp of raw codes, no requantization.
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

fitml_status fitml_relu6_s16(const fitml_clamp_s8_params *p, const int16_t *input,
                             int16_t *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        output[i] = (int16_t)fitml_clamp(input[i], p->act_min, p->act_max);
    }
    return FITML_OK;
}
