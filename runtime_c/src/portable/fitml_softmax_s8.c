/**
 * @file fitml_softmax_s8.c
 * @brief int8 SOFTMAX (TFLM reference softmax.h, int8 -> int8): gemmlowp exp of the scaled
 *        differences to the row max, Q12.19 sum, fixed-point reciprocal. No lookup table.
 */
#include "fitml/fitml_activation.h"
#include "fitml/fitml_support.h"

#define SCALED_DIFF_INT_BITS 5
#define ACCUM_INT_BITS 12

/* exp(beta * s_in * diff) in Q0.31 for diff >= diff_min. */
static int32_t exp_of_diff(const fitml_softmax_s8_params *p, int32_t diff)
{
    const int32_t scaled = fitml_srdhm(fitml_wrap_shl(diff, p->input_left_shift),
                                       p->input_multiplier);
    return fitml_exp_on_negative_values(scaled, SCALED_DIFF_INT_BITS);
}

fitml_status fitml_softmax_s8(const fitml_softmax_s8_params *p, const int8_t *input,
                              int8_t *output)
{
    int32_t r, c;
    if (p == NULL || input == NULL || output == NULL || p->rows < 0 || p->depth < 0
        || p->input_left_shift < 0 || p->input_left_shift > 31) {
        return FITML_ERR_ARGUMENT;
    }
    for (r = 0; r < p->rows; r++) {
        const int8_t *x = input + (size_t)r * p->depth;
        int8_t *y = output + (size_t)r * p->depth;
        int32_t max = -128, sum = 0, bits_over_unit, recip, exponent;
        for (c = 0; c < p->depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < p->depth; c++) {
            const int32_t diff = x[c] - max;
            if (diff >= p->diff_min) {
                sum = fitml_wrap_add(sum, fitml_rdbpot(exp_of_diff(p, diff), ACCUM_INT_BITS));
            }
        }
        recip = fitml_reciprocal(sum, ACCUM_INT_BITS, &bits_over_unit);
        exponent = bits_over_unit + 31 - 8;
        if (exponent < 0 || exponent > 31) {
            return FITML_ERR_ARGUMENT;  /* TFLM CHECK-fails too (sum out of range) */
        }
        for (c = 0; c < p->depth; c++) {
            const int32_t diff = x[c] - max;
            int32_t out = -128;
            if (diff >= p->diff_min) {
                out = fitml_rdbpot(fitml_srdhm(recip, exp_of_diff(p, diff)), exponent) - 128;
            }
            y[c] = (int8_t)fitml_clamp(out, -128, 127);
        }
    }
    return FITML_OK;
}
