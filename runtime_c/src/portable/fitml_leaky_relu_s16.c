/**
 * @file fitml_leaky_relu_s16.c
 * @brief int16 LEAKY_RELU as TFLM reference QuantizeLeakyRelu<int16_t>: the int8 kernel's
 *        arithmetic (32-bit MBQM of q - zp_in with the identity or the alpha multiplier,
 *        + zp_out), clamped to int16.
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

fitml_status fitml_leaky_relu_s16(const fitml_leaky_relu_s8_params *p, const int16_t *input,
                                  int16_t *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const int32_t v = (int32_t)input[i] - p->input_zp;
        const int32_t scaled = v >= 0 ? fitml_mbqm(v, p->identity_multiplier, p->identity_shift)
                                      : fitml_mbqm(v, p->alpha_multiplier, p->alpha_shift);
        output[i] = (int16_t)fitml_clamp(scaled + p->output_zp, -32768, 32767);
    }
    return FITML_OK;
}
