/**
 * @file fitml_hybrid_quantize.h
 * @brief Internal: LiteRT's on-the-fly input quantizers for the hybrid kernels.
 *
 * Include this first in a hybrid kernel source: it also turns floating-point contraction off
 * for the file. LiteRT rounds every float32 product and sum on its own, and an FMA (VFMA on
 * Cortex-M4F/M7, FMA3 on x86) would round x * inv + 0.5f or acc * scale + bias once instead of
 * twice. ISO C modes (-std=c99) already default to -ffp-contract=off in gcc; GNU modes
 * (-std=gnu99, gcc's default) contract unless told not to, so the pragma keeps user builds
 * bit-exact too.
 */
#ifndef FITML_HYBRID_QUANTIZE_H
#define FITML_HYBRID_QUANTIZE_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <string.h>

#include "fitml/fitml_hybrid.h"
#include "fitml/fitml_support.h"

/** @brief roundf(y) (ties away from zero) for |y| < 2^23 without libm: y - trunc(y) is exact. */
static inline int32_t fitml_hybrid_roundf(float y)
{
    const int32_t t = (int32_t)y;
    const float frac = y - (float)t;
    if (frac >= 0.5f) {
        return t + 1;
    }
    return frac <= -0.5f ? t - 1 : t;
}

/**
 * @brief LiteRT's NEON rounding of element i of a row: the vector body [0, body) rounds as
 *        trunc(y +- 0.5f) in float32 (0.49999997f -> 1), the scalar tail as roundf.
 */
static inline int32_t fitml_hybrid_round(float y, int32_t i, int32_t body)
{
    if (i < body) {
        const float nudged = y + (y < 0.0f ? -0.5f : 0.5f);
        return (int32_t)nudged;
    }
    return fitml_hybrid_roundf(y);
}

/**
 * @brief SymmetricQuantizeFloats: q = round(x * (127 / max|x|)) in [-127, 127].
 * @return the scale max|x| / 127 (1 for an all-zero row, whose codes are 0)
 */
static inline float fitml_quantize_symmetric(const float *x, int32_t n, int8_t *q)
{
    const int32_t body = n & ~7;
    float range = 0.0f, inv;
    int32_t i;
    for (i = 0; i < n; i++) {
        const float a = x[i] < 0.0f ? -x[i] : x[i];
        range = a > range ? a : range;
    }
    if (!(range > 0.0f)) {
        memset(q, 0, (size_t)n);
        return 1.0f;
    }
    inv = 127.0f / range;
    for (i = 0; i < n; i++) {
        q[i] = (int8_t)fitml_clamp(fitml_hybrid_round(x[i] * inv, i, body), -127, 127);
    }
    return range / 127.0f;
}

static inline double fitml_hybrid_dabs(double v)
{
    return v < 0.0 ? -v : v;
}

/**
 * @brief AsymmetricQuantizeFloats (NEON variant): range [min(0, lo), max(0, hi)], scale
 *        (float)(range / 255.0), the nudged zero point chosen and rounded in double (once per
 *        row), q = round(x * (float)(1.0 / scale)) + zp in [-128, 127].
 * @return the scale (1, with zero point 0 and zero codes, for an all-zero row)
 */
static inline float fitml_quantize_asymmetric(const float *x, int32_t n, int8_t *q,
                                              int32_t *zero_point)
{
    const int32_t body = n & ~7;
    float lo = 0.0f, hi = 0.0f, scale, inv;
    double scale64, from_min, from_max, zp;
    int32_t i, z;
    for (i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    if (!(hi - lo > 0.0f)) {
        memset(q, 0, (size_t)n);
        *zero_point = 0;
        return 1.0f;
    }
    scale64 = (double)(hi - lo) / 255.0;         /* float32 difference, widened */
    from_min = (double)lo / scale64;
    from_max = (double)hi / scale64;
    zp = 128.0 + fitml_hybrid_dabs(from_min) < 127.0 + fitml_hybrid_dabs(from_max)
             ? -128.0 - from_min : 127.0 - from_max;
    if (zp <= -128.0) {
        z = -128;
    } else if (zp >= 127.0) {
        z = 127;
    } else {                                     /* sign(zp) * floor(|zp| + 0.5) */
        const int32_t t = (int32_t)(fitml_hybrid_dabs(zp) + 0.5);
        z = zp < 0.0 ? -t : t;
    }
    scale = (float)scale64;
    inv = (float)(1.0 / (double)scale);
    for (i = 0; i < n; i++) {
        q[i] = (int8_t)fitml_clamp(fitml_hybrid_round(x[i] * inv, i, body) + z, -128, 127);
    }
    *zero_point = z;
    return scale;
}

/** @brief Fused clamp of a hybrid output. */
static inline float fitml_hybrid_clamp(float y, float lo, float hi)
{
    y = y < lo ? lo : y;
    return y > hi ? hi : y;
}

#endif /* FITML_HYBRID_QUANTIZE_H */
