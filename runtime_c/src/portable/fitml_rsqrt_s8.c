/**
 * @file fitml_rsqrt_s8.c
 * @brief int8 RSQRT: one lookup per element in the table the Python lowering computes with
 *        TFLM's arithmetic (toolchain/ops/rsqrt.py).
 */
#include "fitml/fitml_math.h"

fitml_status fitml_rsqrt_s8(const fitml_lut_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    if (p == NULL || p->lut == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        output[i] = p->lut[(int32_t)input[i] + 128];
    }
    return FITML_OK;
}
