/**
 * @file fitml_requantize_s16_s8.c
 * @brief int16 -> int8 QUANTIZE (TFLM Requantize): clamp(MBQM(q - zp_in, M, s) + zp_out, lo, hi).
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

fitml_status fitml_requantize_s16_s8(const fitml_requantize_s8_params *p, const int16_t *input,
                                     int8_t *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const int32_t v = fitml_mbqm(fitml_wrap_sub((int32_t)input[i], p->input_zp),
                                     p->multiplier, p->shift);
        output[i] = (int8_t)fitml_clamp(fitml_wrap_add(v, p->output_zp), p->act_min,
                                          p->act_max);
    }
    return FITML_OK;
}
