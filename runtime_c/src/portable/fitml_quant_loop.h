/**
 * @file fitml_quant_loop.h
 * @brief Internal: the one requantize loop (int8/int16 in and out) and the one float QUANTIZE
 *        loop (to int8/int16), stamped out per kernel with their element types.
 */
#ifndef FITML_QUANT_LOOP_H
#define FITML_QUANT_LOOP_H

#include "fitml/fitml_quantize.h"
#include "fitml/fitml_support.h"

/**
 * Defines `fitml_status NAME(const fitml_requantize_s8_params *p, const TIN *input,
 * TOUT *output)` (TFLM Requantize): clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max).
 */
#define FITML_DEFINE_REQUANTIZE(NAME, TIN, TOUT)                                                 \
    fitml_status NAME(const fitml_requantize_s8_params *p, const TIN *input, TOUT *output)       \
    {                                                                                            \
        int32_t i;                                                                               \
        if (p == NULL || input == NULL || output == NULL || p->size < 0) {                       \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        for (i = 0; i < p->size; i++) {                                                          \
            const int32_t v = fitml_mbqm(fitml_wrap_sub((int32_t)input[i], p->input_zp),         \
                                         p->multiplier, p->shift);                               \
            output[i] = (TOUT)fitml_clamp(fitml_wrap_add(v, p->output_zp), p->act_min,          \
                                          p->act_max);                                           \
        }                                                                                        \
        return FITML_OK;                                                                         \
    }

/*
 * roundf(r) as int32 for |r| <= 65536, exactly in float32 without libm: for |r| < 2^23,
 * r - trunc(r) is exact, so comparing it with 0.5 rounds ties away from zero.
 */
static inline int32_t fitml_round_half_away_f32(float r)
{
    const int32_t t = (int32_t)r; /* truncates toward zero */
    const float frac = r - (float)t;
    if (frac >= 0.5f) {
        return t + 1;
    }
    if (frac <= -0.5f) {
        return t - 1;
    }
    return t;
}

/**
 * Defines `fitml_status NAME(const fitml_affine_params *p, const float *input, TOUT *output)`
 * (TFLM AffineQuantize): roundf(v / scale) + zp, clamped to [LO, HI]. v / scale is first
 * limited to +-LIMIT (an integer far outside [LO, HI], so the result is the same clamp).
 */
#define FITML_DEFINE_QUANTIZE(NAME, TOUT, LIMIT, LO, HI)                                         \
    fitml_status NAME(const fitml_affine_params *p, const float *input, TOUT *output)           \
    {                                                                                            \
        int32_t i;                                                                               \
        if (p == NULL || input == NULL || output == NULL || p->size < 0                          \
            || !(p->scale > 0.0f)) {                                                             \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        for (i = 0; i < p->size; i++) {                                                          \
            float r = input[i] / p->scale;                                                       \
            if (r != r) {                                                                        \
                r = 0.0f; /* NaN: TFLM's cast is undefined; fitml's reference uses 0 */          \
            }                                                                                    \
            r = r > (LIMIT) ? (LIMIT) : (r < -(LIMIT) ? -(LIMIT) : r);                           \
            output[i] = (TOUT)fitml_clamp(fitml_round_half_away_f32(r) + p->zero_point, LO, HI); \
        }                                                                                        \
        return FITML_OK;                                                                         \
    }

#endif /* FITML_QUANT_LOOP_H */
