/**
 * @file fitml_requantize_s8.c
 * @brief int8 -> int8 requantization (TFLM Requantize; also RELU int8):
 *        clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max).
 */
#include "fitml/fitml_quantize.h"
#include "fitml/fitml_support.h"

fitml_status fitml_requantize_s8(const fitml_requantize_s8_params *p, const int8_t *input,
                                 int8_t *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        output[i] = fitml_requant_s8((int32_t)input[i] - p->input_zp, p->multiplier, p->shift,
                                     p->output_zp, p->act_min, p->act_max);
    }
    return FITML_OK;
}
