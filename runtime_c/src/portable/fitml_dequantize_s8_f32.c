/**
 * @file fitml_dequantize_s8_f32.c
 * @brief int8 -> float32 DEQUANTIZE: scale * (q - zp) as one float32 multiply, which is the
 *        correctly rounded value TFLite's (float)((double)scale * (q - zp)) gives.
 */
#include "fitml/fitml_quantize.h"

fitml_status fitml_dequantize_s8_f32(const fitml_affine_params *p, const int8_t *input,
                                     float *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
    return FITML_OK;
}
