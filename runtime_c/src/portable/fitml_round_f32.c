/**
 * @file fitml_round_f32.c
 * @brief float32 ROUND: TFLM's RoundToNearest (half to even; -0.3 gives +0.0) per element.
 */
#include "fitml_float_unary.h"

/* floor f, d = x - f: f when d < 0.5 or (d == 0.5 and f even), else f + 1. d == 0.5 implies
 * |x| < 2^23, so the parity test on (int32_t)f is defined. */
static inline float fitml_round_one(float x)
{
    const float f = floorf(x);
    const float d = x - f;
    if (d < 0.5f || (d == 0.5f && ((int32_t)f % 2) == 0)) {
        return f;
    }
    return f + 1.0f;
}

FITML_DEFINE_FLOAT_UNARY(fitml_round_f32, fitml_round_one)
