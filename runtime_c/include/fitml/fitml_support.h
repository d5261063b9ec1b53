/**
 * @file fitml_support.h
 * @brief TFLite Micro's integer arithmetic, bit for bit: gemmlowp fixed point and requantization.
 *
 * Spec: shared TFLITE_INT8.md section 1 (double rounding, the TFLM build default).
 * Integer overflow that TFLite leaves to C (int32 wraparound) is done here in uint32_t, which
 * is defined behaviour and compiles to the same instructions. Right shifts of negative values
 * are arithmetic (implementation-defined in C99; every supported compiler does so).
 */
#ifndef FITML_SUPPORT_H
#define FITML_SUPPORT_H

#include <stdint.h>

#include "fitml_types.h"

#define FITML_INT32_MIN (-2147483647 - 1)
#define FITML_INT32_MAX 2147483647

/** @brief int32 a + b with two's-complement wraparound. */
static inline int32_t fitml_wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/** @brief int32 a - b with two's-complement wraparound. */
static inline int32_t fitml_wrap_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/** @brief x * 2^k truncated to int32 (0 <= k <= 31), as TFLite's plain int32 shift. */
static inline int32_t fitml_wrap_shl(int32_t x, int32_t k)
{
    return (int32_t)((uint32_t)x << k);
}

/** @brief clamp(x, lo, hi). */
static inline int32_t fitml_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/** @brief Output channels per group of a (grouped) CONV_2D, 0 if the shapes do not match. */
static inline int32_t fitml_conv_per_group(const fitml_conv_geom *g)
{
    int32_t groups;
    if (g->filter.c <= 0 || g->input.c % g->filter.c != 0 || g->filter.n != g->output.c) {
        return 0;
    }
    groups = g->input.c / g->filter.c;
    if (groups <= 0 || g->output.c % groups != 0) {
        return 0;
    }
    return g->output.c / groups;
}

/**
 * @brief SaturatingRoundingDoublingHighMul: floor((a*b + 2^30) / 2^31); MIN*MIN saturates.
 */
static inline int32_t fitml_srdhm(int32_t a, int32_t b)
{
    if (a == FITML_INT32_MIN && b == FITML_INT32_MIN) {
        return FITML_INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/** @brief RoundingDivideByPOT: x / 2^e rounded half away from zero, 0 <= e <= 31. */
static inline int32_t fitml_rdbpot(int32_t x, int32_t e)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << e) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (remainder > threshold ? 1 : 0);
}

/**
 * @brief MultiplyByQuantizedMultiplier, double rounding:
 *        RDBPOT(SRDHM(wrap32(x * 2^max(s,0)), m), max(-s,0)).
 */
static inline int32_t fitml_mbqm(int32_t x, int32_t m, int32_t s)
{
    const int32_t left = s > 0 ? s : 0;
    const int32_t right = s > 0 ? 0 : -s;
    return fitml_rdbpot(fitml_srdhm(fitml_wrap_shl(x, left), m), right);
}

/** @brief acc -> int8: clamp(MBQM(acc, m, s) + zp, lo, hi). */
static inline int8_t fitml_requant_s8(int32_t acc, int32_t m, int32_t s, int32_t zp,
                                      int32_t lo, int32_t hi)
{
    return (int8_t)fitml_clamp(fitml_mbqm(acc, m, s) + zp, lo, hi);
}

/** @brief int64 a + b with two's-complement wraparound (16x8 accumulator plus bias). */
static inline int64_t fitml_wrap_add64(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

/**
 * @brief MultiplyByQuantizedMultiplier, int64-x overload (TFLM int16 paths): the multiplier
 *        reduced to 16 bits, m' = (m + 2^15) >> 16 (0x7FFF from 0x7FFF0000 up), then
 *        (x * m' + 2^(14-s)) >> (15-s), truncated to int32 without saturation. s <= 14.
 */
static inline int32_t fitml_mbqm64(int64_t x, int32_t m, int32_t s)
{
    const int64_t reduced = m < 0x7FFF0000 ? ((int64_t)m + (1 << 15)) >> 16 : 0x7FFF;
    const int32_t total = 15 - s;
    const uint64_t sum = (uint64_t)x * (uint64_t)reduced + ((uint64_t)1 << (total - 1));
    return (int32_t)(uint32_t)(uint64_t)((int64_t)sum >> total);
}

/**
 * @brief 16x8 accumulator -> int16: fitml_mbqm64, or with `acc32` (TFLM with an int32 bias) the
 *        accumulator wrapped to int32 and the double-rounding MBQM; then the clamp.
 */
static inline int16_t fitml_requant_s16(int64_t acc, int32_t acc32, int32_t m, int32_t s,
                                        int32_t lo, int32_t hi)
{
    const int32_t v = acc32 ? fitml_mbqm((int32_t)(uint32_t)(uint64_t)acc, m, s)
                            : fitml_mbqm64(acc, m, s);
    return (int16_t)fitml_clamp(v, lo, hi);
}

/**
 * @brief SaturatingRoundingMultiplyByPOT<k>: x * 2^k saturated to int32; k < 0 divides
 *        with RDBPOT.
 */
static inline int32_t fitml_sat_shl(int32_t x, int32_t k)
{
    int32_t threshold;
    if (k < 0) {
        return fitml_rdbpot(x, -k);
    }
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

/** @brief RoundingHalfSum: (a + b) / 2 rounded half away from zero. */
static inline int32_t fitml_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/** @brief Count of leading zero bits of x (32 for 0). */
static inline int32_t fitml_clz32(uint32_t x)
{
#if defined(__GNUC__)
    return x == 0u ? 32 : (int32_t)__builtin_clz(x);
#else
    int32_t n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

/** @brief gemmlowp exp on [-1/4, 0): Q0.31 in and out (Taylor series around -1/8). */
static inline int32_t fitml_exp_on_interval_quarter(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = fitml_wrap_add(a, 1 << 28);
    const int32_t x2 = fitml_srdhm(x, x);
    const int32_t x3 = fitml_srdhm(x2, x);
    const int32_t x4 = fitml_srdhm(x2, x2);
    const int32_t x4_over_4 = fitml_rdbpot(x4, 2);
    const int32_t poly = fitml_rdbpot(
        fitml_wrap_add(fitml_srdhm(fitml_wrap_add(x4_over_4, x3), one_third), x2), 1);
    return fitml_wrap_add(exp_minus_one_eighth,
                          fitml_srdhm(exp_minus_one_eighth, fitml_wrap_add(x, poly)));
}

/**
 * @brief gemmlowp exp_on_negative_values: exp(a) for a <= 0 in Q(int_bits).(31-int_bits),
 *        result Q0.31. 1 <= int_bits <= 5 (the int8 kernels use 4 and 5).
 */
static inline int32_t fitml_exp_on_negative_values(int32_t a, int32_t int_bits)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535, 720401, 242};
    const int32_t frac = 31 - int_bits;
    const int32_t quarter = (int32_t)1 << (frac - 2);
    const int32_t r = fitml_wrap_sub(a & (quarter - 1), quarter);
    const int32_t remainder = fitml_wrap_sub(r, a);
    int32_t y = fitml_exp_on_interval_quarter(fitml_sat_shl(r, int_bits));
    int32_t k;
    for (k = -2; k <= 4; k++) {
        if (int_bits > k && ((uint32_t)remainder >> (frac + k)) & 1u) {
            y = fitml_srdhm(y, barrel[k + 2]);
        }
    }
    return a == 0 ? FITML_INT32_MAX : y;
}

/** @brief Newton-Raphson 1/h in Q2.29 for h in [1/2, 1) (Q0.31), three iterations. */
static inline int32_t fitml_newton_half_reciprocal(int32_t h)
{
    int32_t x = fitml_wrap_add(1515870810, fitml_srdhm(h, -1010580540));
    int i;
    for (i = 0; i < 3; i++) {
        const int32_t one_minus_hx = fitml_wrap_sub((int32_t)1 << 29, fitml_srdhm(h, x));
        x = fitml_wrap_add(x, fitml_sat_shl(fitml_srdhm(x, one_minus_hx), 2));
    }
    return x;
}

/** @brief gemmlowp one_over_one_plus_x_for_x_in_0_1: 1/(1+a), Q0.31 in and out. */
static inline int32_t fitml_one_over_one_plus_x(int32_t a)
{
    const int32_t h = fitml_rounding_half_sum(a, FITML_INT32_MAX);
    return fitml_sat_shl(fitml_newton_half_reciprocal(h), 1);
}

/** @brief gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: (1-a)/(1+a), Q0.31. */
static inline int32_t fitml_one_minus_x_over_one_plus_x(int32_t a)
{
    const int32_t h = fitml_rounding_half_sum(a, FITML_INT32_MAX);
    return fitml_sat_shl(fitml_wrap_sub(fitml_newton_half_reciprocal(h), (int32_t)1 << 29), 2);
}

/** @brief gemmlowp logistic of a Q4.27 value; result Q0.31 (logistic(0) = 2^30). */
static inline int32_t fitml_logistic_q4(int32_t a)
{
    int32_t p;
    if (a == 0) {
        return (int32_t)1 << 30;
    }
    p = fitml_one_over_one_plus_x(
        fitml_exp_on_negative_values(a > 0 ? fitml_wrap_sub(0, a) : a, 4));
    return a > 0 ? p : fitml_wrap_sub(FITML_INT32_MAX, p);
}

/** @brief gemmlowp tanh of a Q4.27 value; result Q0.31. */
static inline int32_t fitml_tanh_q4(int32_t a)
{
    int32_t t;
    if (a == 0) {
        return 0;
    }
    /* the raw of -|a| read with 5 integer bits is the value -2|a| */
    t = fitml_one_minus_x_over_one_plus_x(
        fitml_exp_on_negative_values(a < 0 ? a : fitml_wrap_sub(0, a), 5));
    return a < 0 ? fitml_wrap_sub(0, t) : t;
}

/**
 * @brief TFLM GetReciprocal: 1/x for x in Q(int_digits) as a Q0.31 raw and the extra shift.
 * @param x              positive sum
 * @param int_digits     integer bits of x's format
 * @param bits_over_unit receives int_digits - clz(x)
 */
static inline int32_t fitml_reciprocal(int32_t x, int32_t int_digits, int32_t *bits_over_unit)
{
    const int32_t headroom = fitml_clz32((uint32_t)x);
    const int32_t shifted = (int32_t)(((uint32_t)x << headroom) - 0x80000000u);
    *bits_over_unit = int_digits - headroom;
    return fitml_one_over_one_plus_x(shifted);
}

/**
 * @brief Dot product of two int8 vectors with an int32 (wrapping) accumulator: the hot loop of
 *        conv and fully connected.
 */
static inline int32_t fitml_dot_s8(const int8_t *a, const int8_t *b, int32_t n)
{
    uint32_t acc = 0u;
    int32_t i;
    for (i = 0; i < n; i++) {
        acc += (uint32_t)((int32_t)a[i] * (int32_t)b[i]);
    }
    return (int32_t)acc;
}

/* ---- Cortex-M DSP extension (M4, M7, M33, M55): dual 16-bit MACs ---------------------------
 * SXTB16 widens bytes 0 and 2 (or, rotated, 1 and 3) of a word into two int16 lanes; SMLAD adds
 * both lane products to an accumulator (wrapping, like TFLite's int32 sums). The rotated form
 * and SMMLAR have no ACLE intrinsic in gcc 12, hence the one-instruction asm.
 */
#if FITML_HAS_DSP
#include <arm_acle.h>

/** @brief Lanes (x.b0, x.b2) sign-extended to int16. */
static inline uint32_t fitml_sxtb16(uint32_t x)
{
    return (uint32_t)__sxtb16((int8x4_t)x);
}

/** @brief Lanes (x.b1, x.b3) sign-extended to int16. */
static inline uint32_t fitml_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/** @brief acc + a.lo * b.lo + a.hi * b.hi (int16 lanes), wrapping. */
static inline int32_t fitml_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}

/** @brief acc + a.lo * b.lo. */
static inline int32_t fitml_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlabb((int32_t)a, (int32_t)b, acc);
}

/** @brief acc + a.hi * b.lo. */
static inline int32_t fitml_smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlatb((int32_t)a, (int32_t)b, acc);
}

/** @brief SMMLAR: acc + floor((a * b + 2^31) / 2^32). */
static inline int32_t fitml_smmlar(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/**
 * @brief Fast requantization of a doubled accumulator a2 = 2 * acc (see FITML_FAST_REQUANT):
 *        RDBPOT(SRDHM(acc, m), e) + zp, given round = 2^(e-1) + zp * 2^e and e >= 1.
 */
static inline int32_t fitml_requant_fast(int32_t a2, int32_t m, int32_t round, int32_t e)
{
    return (fitml_smmlar(a2, m, round) + (a2 >> 31)) >> e;
}
#endif /* FITML_HAS_DSP */

/* ---- Scratch sizes shared by every variant of a kernel --------------------------------------
 * The planner reserves one size per op (the lowering's scratch_bytes in Python), so the portable
 * and the DSP/MVE variants of a kernel report the same number: the larger need.
 */

/** @brief 1 if a CONV_2D takes the DSP path (no groups). */
static inline int fitml_conv_s8_dsp_ok(const fitml_conv_geom *g)
{
    return g->filter.c > 0 && g->filter.c == g->input.c;
}

/** @brief Patch depth KH*KW*C_in rounded up to a multiple of 4 (one SXTB16 pair per block). */
static inline int32_t fitml_conv_s8_depth4(const fitml_conv_geom *g)
{
    return (g->filter.h * g->filter.w * g->filter.c + 3) & ~3;
}

/** @brief Patch depth rounded up to a multiple of 8: the DSP int8 pass takes blocks in pairs. */
static inline int32_t fitml_conv_s8_depth8(const fitml_conv_geom *g)
{
    return (g->filter.h * g->filter.w * g->filter.c + 7) & ~7;
}

/**
 * @brief CONV_2D int8 scratch: DSP path: 4 widened int16 patches (8 * depth8 bytes), one int8
 *        patch (depth8) and 4 output pixels (4 * C_out); else one int8 patch, or 0 for an
 *        in-place 1x1 conv.
 */
static inline size_t fitml_conv_s8_scratch_bytes(const fitml_conv_geom *g)
{
    const int32_t depth = g->filter.h * g->filter.w * g->filter.c;
    const int32_t d8 = fitml_conv_s8_depth8(g);
    if (fitml_conv_s8_dsp_ok(g)) {
        return (size_t)9 * (size_t)d8 + (size_t)4 * (size_t)g->output.c;
    }
    if (g->filter.h == 1 && g->filter.w == 1 && g->pad_h == 0 && g->pad_w == 0) {
        return 0;
    }
    return (size_t)depth;
}

/**
 * @brief 1 if a DEPTHWISE_CONV_2D may take the DSP path: 3x3, depth multiplier 1, no
 *        dilation, channels a multiple of 4 (the lowering adds the fast-requantization
 *        condition by emitting filter_dsp or not).
 */
static inline int fitml_depthwise_dsp_ok(const fitml_conv_geom *g, int32_t depth_multiplier)
{
    return depth_multiplier == 1 && g->filter.h == 3 && g->filter.w == 3
           && g->dilation_h == 1 && g->dilation_w == 1 && g->output.c % 4 == 0;
}

/** @brief Width (pixels) of the DSP depthwise's zero-point-padded input rows. */
static inline int32_t fitml_depthwise_dsp_row_width(const fitml_conv_geom *g)
{
    return (g->output.w - 1) * g->stride_w + 3;
}

/** @brief Channels the DSP depthwise prepares at a time (its blocks of taps and records). */
#define FITML_DW_CHUNK 32

/** @brief min(C, FITML_DW_CHUNK): the channels of the DSP depthwise's largest chunk. */
static inline int32_t fitml_depthwise_dsp_chunk(int32_t channels)
{
    return channels < FITML_DW_CHUNK ? channels : FITML_DW_CHUNK;
}

/**
 * @brief DEPTHWISE_CONV_2D int8 scratch: int32 accumulators per channel, or (DSP path, if
 *        larger) per 4 channels of a chunk a 136-byte block of taps and records, and one
 *        4-channel group's widened input rows (5 rows of 8 bytes per padded pixel).
 */
static inline size_t fitml_depthwise_conv_s8_scratch_bytes(const fitml_conv_geom *g,
                                                           int32_t depth_multiplier)
{
    const size_t acc = (size_t)g->output.c * sizeof(int32_t);
    size_t dsp;
    if (!fitml_depthwise_dsp_ok(g, depth_multiplier)) {
        return acc;
    }
    dsp = (size_t)34 * (size_t)fitml_depthwise_dsp_chunk(g->output.c)
          + (size_t)40 * (size_t)fitml_depthwise_dsp_row_width(g);
    return dsp > acc ? dsp : acc;
}

#endif /* FITML_SUPPORT_H */
