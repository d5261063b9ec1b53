/**
 * @file fitml_dequantize_s16_f32.c
 * @brief int16 -> float32 DEQUANTIZE: scale * (q - zp) as one float32 multiply (exact for
 *        |q - zp| < 2^24), the correctly rounded value TFLite's double product gives.
 */
#include "fitml/fitml_int16.h"

fitml_status fitml_dequantize_s16_f32(const fitml_affine_params *p, const int16_t *input,
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
