/**
 * @file fitml_log_softmax_s8.c
 * @brief int8 LOG_SOFTMAX (TFLM reference LogSoftmaxQuantized): no lookup table.
 */
#include "fitml/fitml_math.h"
#include "fitml/fitml_support.h"

#define INPUT_INT_BITS 5
#define ACCUM_INT_BITS 12
#define OUTPUT_INT_BITS 4

/* SaturatingRoundingMultiplyByPOTParam for 0 <= k <= 31. */
static int32_t sat_shl_param(int32_t x, int32_t k)
{
    int32_t threshold;
    if (k == 0) {
        return x;
    }
    threshold = (int32_t)(((uint32_t)1 << (31 - k)) - 1u);
    if (x > threshold) {
        return FITML_INT32_MAX;
    }
    if (x < -threshold) {
        return FITML_INT32_MIN;
    }
    return fitml_wrap_shl(x, k);
}

static int32_t sat_add(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + (int64_t)b;
    return s > FITML_INT32_MAX ? FITML_INT32_MAX : (s < FITML_INT32_MIN ? FITML_INT32_MIN
                                                                          : (int32_t)s);
}

/* TFLite log_x_for_x_greater_than_or_equal_to_1<5, 12>: ln of a positive Q12.19 raw, Q5.26. */
static int32_t log_q12_to_q5(int32_t z)
{
    const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
    const int32_t alpha_n = 117049297, alpha_d = 127690142;
    const int32_t alpha_i = 1057819769, alpha_f = 638450708;
    const int32_t accum_bits = INPUT_INT_BITS + 1;
    const int32_t quarter = fitml_rdbpot((int32_t)1 << 29, accum_bits);
    const int32_t za_headroom_plus_1 = fitml_clz32((uint32_t)z);
    const int32_t r_a = fitml_sat_shl(
        fitml_srdhm(sat_shl_param(z, za_headroom_plus_1 - 1), sqrt_half), 1);
    const int32_t za_pow2 = sat_add(
        sat_shl_param(ACCUM_INT_BITS - za_headroom_plus_1, 31 - accum_bits), quarter);
    const int32_t z_b = fitml_srdhm(z, sqrt_half);
    const int32_t zb_headroom = fitml_clz32((uint32_t)z_b) - 1;
    const int32_t r_b = sat_shl_param(z, zb_headroom);
    const int32_t zb_pow2 = sat_add(
        sat_shl_param(ACCUM_INT_BITS - zb_headroom, 31 - accum_bits), -quarter);
    const int32_t r = r_a < r_b ? r_a : r_b;
    const int32_t z_pow2 = za_pow2 > zb_pow2 ? za_pow2 : zb_pow2;
    const int32_t p = fitml_rounding_half_sum(r, sqrt_sqrt_half);
    int32_t q = fitml_wrap_sub(r, sqrt_sqrt_half);
    int32_t sq, num, inner, denom_minus_one, recip;
    q = fitml_wrap_add(q, q);
    sq = fitml_srdhm(q, q);
    num = fitml_wrap_add(fitml_srdhm(q, r), fitml_srdhm(fitml_srdhm(q, sq), alpha_n));
    inner = fitml_wrap_add(fitml_wrap_add(alpha_i, q), fitml_srdhm(alpha_d, sq));
    denom_minus_one = fitml_wrap_add(fitml_srdhm(p, inner), fitml_srdhm(alpha_f, q));
    recip = fitml_one_over_one_plus_x(denom_minus_one);
    return fitml_sat_shl(fitml_wrap_add(fitml_srdhm(z_pow2, log_2),
                                        fitml_srdhm(fitml_rdbpot(num, accum_bits), recip)),
                         accum_bits - INPUT_INT_BITS);
}

fitml_status fitml_log_softmax_s8(const fitml_log_softmax_s8_params *p, const int8_t *input,
                                  int8_t *output)
{
    int32_t r, c;
    if (p == NULL || input == NULL || output == NULL || p->rows < 0 || p->depth < 0
        || p->input_left_shift < 0 || p->input_left_shift > 31 || p->reverse_shift > 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (r = 0; r < p->rows; r++) {
        const int8_t *x = input + (size_t)r * p->depth;
        int8_t *y = output + (size_t)r * p->depth;
        int32_t max = -128, sum = 0, log_sum, floor_diff, adjusted;
        for (c = 0; c < p->depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < p->depth; c++) {
            const int32_t diff = x[c] - max;
            if (diff >= p->diff_min) {
                const int32_t scaled = fitml_mbqm(diff, p->input_multiplier,
                                                  p->input_left_shift);
                sum = fitml_wrap_add(sum, fitml_rdbpot(
                    fitml_exp_on_negative_values(scaled, INPUT_INT_BITS), ACCUM_INT_BITS));
            }
        }
        log_sum = log_q12_to_q5(sum);
        floor_diff = fitml_mbqm(fitml_wrap_add(log_sum, FITML_INT32_MIN), p->reverse_multiplier,
                                p->reverse_shift);
        adjusted = p->diff_min - 1 > floor_diff ? p->diff_min - 1 : floor_diff;
        for (c = 0; c < p->depth; c++) {
            const int32_t diff = x[c] - max;
            int32_t out = -128;
            if (diff > adjusted) {
                const int32_t scaled = fitml_mbqm(diff, p->input_multiplier,
                                                  p->input_left_shift);
                out = fitml_rdbpot(fitml_wrap_sub(scaled, log_sum),
                                   31 - INPUT_INT_BITS - OUTPUT_INT_BITS) + 127;
                out = fitml_clamp(out, -128, 127);
            }
            y[c] = (int8_t)out;
        }
    }
    return FITML_OK;
}
