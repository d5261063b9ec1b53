/**
 * @file fitml_relu_s8.c
 * @brief int8 RELU (TFLM ReluQuantized): a requantization whose clamp starts at the output
 *        zero point (the bounds are in the parameters). Same loop as fitml_requantize_s8(),
 *        kept separate so each kernel file stands alone.
 */
#include "fitml/fitml_activation.h"
#include "fitml/fitml_support.h"

fitml_status fitml_relu_s8(const fitml_requantize_s8_params *p, const int8_t *input,
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
