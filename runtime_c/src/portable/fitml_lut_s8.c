/**
 * @file fitml_lut_s8.c
 * @brief Any int8 -> int8 op whose output depends on the input code alone (LOGISTIC, TANH,
 *        RSQRT, HARD_SWISH, LEAKY_RELU int8): one lookup per element in the 256-entry table
 *        the Python lowering computes by running the op's reference on every code
 *        (toolchain/ops/lut_lowering.py).
 */
#include "fitml/fitml_math.h"

fitml_status fitml_lut_s8(const fitml_lut_s8_params *p, const int8_t *input, int8_t *output)
{
    const int8_t *lut;
    int32_t i;
    if (p == NULL || p->lut == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    lut = p->lut + 128;                 /* indexed by the signed code directly */
    for (i = 0; i + 4 <= p->size; i += 4) {     /* in place is fine: each read precedes */
        const int8_t a = input[i], b = input[i + 1], c = input[i + 2], d = input[i + 3];
        output[i] = lut[a];
        output[i + 1] = lut[b];
        output[i + 2] = lut[c];
        output[i + 3] = lut[d];
    }
    for (; i < p->size; i++) {
        output[i] = lut[input[i]];
    }
    return FITML_OK;
}
