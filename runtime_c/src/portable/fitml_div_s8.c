/**
 * @file fitml_div_s8.c
 * @brief int8 DIV with broadcasting (TFLM reference DivElementwise), including what TFLM's
 *        x86 build computes where its RoundingDivideByPOT exponent exceeds 31 (small
 *        numerators) or the divisor is zero: see toolchain/ops/div.py.
 */
#include "fitml/fitml_math.h"
#include "fitml/fitml_support.h"
#include "fitml_broadcast_loop.h"

/* RoundingDivideByPOT for e >= 0; above 31 as TFLM's x86 build: mask all ones, e mod 32. */
static inline int32_t rdbpot_tflm(int32_t x, int32_t e)
{
    if (e > 31) {
        return (x >> (e & 31)) + (x >= 0 ? 1 : 0);
    }
    return fitml_rdbpot(x, e);
}

static inline int8_t div_one(const fitml_mul_s8_params *p, int8_t a, int8_t b, int op)
{
    int32_t v1 = (int32_t)a - p->input1_zp, v2 = (int32_t)b - p->input2_zp;
    int32_t clz, recip, headroom, unscaled;
    (void)op;
    if (v2 < 0) {
        v1 = -v1;
        v2 = -v2;
    }
    /* GetReciprocal(v2, 31): a zero divisor shifts nothing (as x86 does) */
    clz = fitml_clz32((uint32_t)v2);
    recip = fitml_one_over_one_plus_x(
        (int32_t)((clz < 32 ? (uint32_t)v2 << clz : 0u) - 0x80000000u));
    headroom = fitml_clz32((uint32_t)(v1 < 0 ? ~v1 : v1)) - 1;
    unscaled = fitml_srdhm(fitml_wrap_shl(v1, headroom), recip);
    return (int8_t)fitml_clamp(
        rdbpot_tflm(fitml_srdhm(unscaled, p->output_multiplier),
                    headroom + (31 - clz) - p->output_shift) + p->output_zp,
        p->act_min, p->act_max);
}

FITML_DEFINE_BROADCAST(div_s8, fitml_mul_s8_params, int8_t, div_one)

fitml_status fitml_div_s8(const fitml_mul_s8_params *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output)
{
    return div_s8(p, input1, input2, output, 0);
}
