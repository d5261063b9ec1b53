/**
 * @file fitml_l2_normalization_s8.c
 * @brief int8 L2_NORMALIZATION (TFLM reference_integer_ops::L2Normalization).
 */
#include "fitml/fitml_math.h"
#include "fitml/fitml_support.h"

/* GetInvSqrtQuantizedMultiplierExp(x, kReverseShift = -1): 1 / sqrt(x) as a multiplier and a
 * (left) shift, by five Newton steps in Q3.28. */
static void fitml_inv_sqrt_multiplier(int32_t x, int32_t *multiplier, int32_t *shift)
{
    const int32_t half_three = (1 << 28) + (1 << 27);
    int32_t s = 11, pairs, half_input, y = 1 << 28, i;
    if (x <= 1) {
        *multiplier = FITML_INT32_MAX;
        *shift = 0;
        return;
    }
    while (x >= (1 << 29)) {
        x /= 4;
        s++;
    }
    pairs = (fitml_clz32((uint32_t)x) - 1) / 2 - 1;
    s -= pairs;
    x = fitml_wrap_shl(x, 2 * pairs);
    half_input = fitml_rdbpot(x >> 1, 1);
    for (i = 0; i < 5; i++) {
        const int32_t y3 = fitml_sat_shl(fitml_srdhm(fitml_srdhm(y, y), y), 6);
        y = fitml_sat_shl(fitml_wrap_sub(fitml_srdhm(half_three, y), fitml_srdhm(half_input, y3)),
                          3);
    }
    y = fitml_srdhm(y, 1518500250);     /* times sqrt(2) / 2 in Q0.31 */
    if (s < 0) {
        y = fitml_wrap_shl(y, -s);
        s = 0;
    }
    *multiplier = y;
    *shift = -s;
}

fitml_status fitml_l2_normalization_s8(const fitml_l2_normalization_params *p,
                                       const int8_t *input, int8_t *output)
{
    int32_t i, c;
    if (p == NULL || input == NULL || output == NULL || p->outer < 0 || p->depth < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->outer; i++) {
        const int8_t *row = input + (size_t)i * (size_t)p->depth;
        int8_t *out = output + (size_t)i * (size_t)p->depth;
        int32_t acc = 0, mult, shift;
        for (c = 0; c < p->depth; c++) {
            const int32_t v = row[c] - p->input_zp;
            acc = fitml_wrap_add(acc, v * v);
        }
        fitml_inv_sqrt_multiplier(acc, &mult, &shift);
        for (c = 0; c < p->depth; c++) {
            const int32_t v = row[c] - p->input_zp;
            out[c] = (int8_t)fitml_clamp(fitml_mbqm(v, mult, shift + 7), -128, 127);
        }
    }
    return FITML_OK;
}
