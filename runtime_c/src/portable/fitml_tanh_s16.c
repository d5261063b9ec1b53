/**
 * @file fitml_tanh_s16.c
 * @brief int16 TANH (TFLM reference_integer_ops::Tanh, int16): 2 * sigmoid(2x) - 1 from the
 *        sigmoid(i/24) table read with 8 fractional bits, mirrored for x < 0.
 */
#include "fitml_sigmoid_s16.h"

fitml_status fitml_tanh_s16(const fitml_logistic_s16_params *p, const int16_t *input,
                            int16_t *output)
{
    int32_t i;
    if (fitml_sigmoid_s16_bad(p, input, output)) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const int32_t x = fitml_sigmoid_s16_rescale(p, input[i]);
        const uint32_t a = (uint32_t)(x < 0 ? -x : x);
        const uint32_t uh = a >> 8;
        int32_t r;
        if (uh >= 255u) {
            r = (int32_t)(0xFFFFu << 8);
        } else {
            const uint32_t ua = (uint32_t)(p->table[uh] + 32768);
            const uint32_t ub = (uint32_t)(p->table[uh + 1] + 32768);
            r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
        }
        r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(r >> 8);
    }
    return FITML_OK;
}
