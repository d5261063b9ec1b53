/**
 * @file fitml_softmax_s16.c
 * @brief int16 SOFTMAX (TFLM reference_ops::SoftmaxInt16): exp(x - max) from the exp LUT, the
 *        Q16.15 sum normalized and inverted through the 1/(1+x) LUT, products rounded back.
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

/** lut_lookup_with_interpolation: lut[256 + (v >> 7)] plus the slope times v's low 7 bits. */
static int16_t lut_lookup(int32_t v, const int16_t *lut)
{
    const int32_t index = 256 + (v >> 7);
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    const int32_t delta = ((int32_t)slope * (v & 0x7F) + 64) >> 7;
    return (int16_t)(lut[index] + delta);
}

fitml_status fitml_softmax_s16(const fitml_softmax_s16_params *p, const int16_t *input,
                               int16_t *output)
{
    int32_t r, c;
    if (p == NULL || input == NULL || output == NULL || p->exp_lut == NULL
        || p->recip_lut == NULL || p->rows < 0 || p->depth <= 0 || p->depth > 65536) {
        return FITML_ERR_ARGUMENT;
    }
    for (r = 0; r < p->rows; r++) {
        const int16_t *x = input + (size_t)r * (size_t)p->depth;
        int16_t *y = output + (size_t)r * (size_t)p->depth;
        int32_t max = -32768, sum = 0, hpo, right;
        int64_t shifted, round;
        int16_t recip;
        for (c = 0; c < p->depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < p->depth; c++) {   /* the exps wait in the output row */
            const int32_t d = fitml_mbqm((int32_t)x[c] - max, p->input_multiplier,
                                         p->input_left_shift);
            y[c] = lut_lookup(fitml_clamp(d + 32767, -32768, 32767), p->exp_lut);
            sum += y[c];
        }
        hpo = fitml_clz32((uint32_t)sum);
        shifted = (((int64_t)sum << (hpo - 1)) + (1 << 13)) >> 14;
        recip = lut_lookup(fitml_clamp((int32_t)shifted - (1 << 15) - (1 << 16), -32768, 32767),
                           p->recip_lut);
        right = 31 - hpo;
        round = (int64_t)1 << (right - 1);
        for (c = 0; c < p->depth; c++) {
            const int64_t v = ((int64_t)y[c] * recip + round) >> right;
            y[c] = (int16_t)(v < 0 ? 0 : v > 32767 ? 32767 : v);
        }
    }
    return FITML_OK;
}
