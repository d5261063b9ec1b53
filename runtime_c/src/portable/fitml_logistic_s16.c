/**
 * @file fitml_logistic_s16.c
 * @brief int16 LOGISTIC (TFLM reference_integer_ops::Logistic, int16): the rescaled |x| indexes
 *        the sigmoid(i/24) table (9 fractional bits interpolated), mirrored for x < 0.
 */
#include "fitml_sigmoid_s16.h"

fitml_status fitml_logistic_s16(const fitml_logistic_s16_params *p, const int16_t *input,
                                int16_t *output)
{
    int32_t i;
    if (fitml_sigmoid_s16_bad(p, input, output)) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const int32_t x = fitml_sigmoid_s16_rescale(p, input[i]);
        const uint32_t a = (uint32_t)(x < 0 ? -x : x);
        const uint32_t uh = a >> 9;
        uint32_t r;
        if (uh >= 255u) {
            r = 0x7FFFu << 10;
        } else {
            const uint32_t ua = (uint32_t)(p->table[uh] + 32768);
            const uint32_t ub = (uint32_t)(p->table[uh + 1] + 32768);
            r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
        }
        r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
        output[i] = (int16_t)(r >> 10);
    }
    return FITML_OK;
}
