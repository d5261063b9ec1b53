/**
 * @file fitml_leaky_relu_s8.c
 * @brief int8 LEAKY_RELU as TFLM reference QuantizeLeakyRelu: q - zp_in >= 0 is requantized
 *        with the identity multiplier (s_in / s_out), below with the alpha one
 *        (s_in * alpha / s_out, possibly negative); + zp_out, clamp to int8.
 */
#include "fitml/fitml_activation.h"
#include "fitml/fitml_support.h"

fitml_status fitml_leaky_relu_s8(const fitml_leaky_relu_s8_params *p, const int8_t *input,
                                 int8_t *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const int32_t v = (int32_t)input[i] - p->input_zp;
        const int32_t scaled = v >= 0 ? fitml_mbqm(v, p->identity_multiplier, p->identity_shift)
                                      : fitml_mbqm(v, p->alpha_multiplier, p->alpha_shift);
        output[i] = (int8_t)fitml_clamp(scaled + p->output_zp, -128, 127);
    }
    return FITML_OK;
}
