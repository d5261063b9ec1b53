/**
 * @file fitml_squared_difference.h
 * @brief Internal: int8 / int16 SQUARED_DIFFERENCE (TFLM SquaredDifference with
 *        ArithmeticParams): ADD's rescaled inputs subtracted, squared, requantized.
 */
#ifndef FITML_SQUARED_DIFFERENCE_H
#define FITML_SQUARED_DIFFERENCE_H

#include "fitml/fitml_math.h"
#include "fitml_addsub.h"

/** @brief One output code: clamp(MBQM(d * d) + zp_out), d the rescaled difference. */
static inline int32_t fitml_sqdiff_one(const fitml_add_s8_params *p, int32_t a, int32_t b)
{
    const int32_t d = fitml_addsub_sum(p, a, b, -1);
    const int32_t sq = (int32_t)((uint32_t)d * (uint32_t)d);
    return fitml_clamp(fitml_wrap_add(fitml_mbqm(sq, p->output_multiplier, p->output_shift),
                                      p->output_zp), p->act_min, p->act_max);
}

static inline int8_t fitml_sqdiff_one_s8(const fitml_add_s8_params *p, int8_t a, int8_t b,
                                         int op)
{
    (void)op;
    return (int8_t)fitml_sqdiff_one(p, a, b);
}

static inline int16_t fitml_sqdiff_one_s16(const fitml_add_s8_params *p, int16_t a, int16_t b,
                                           int op)
{
    (void)op;
    return (int16_t)fitml_sqdiff_one(p, a, b);
}

#endif /* FITML_SQUARED_DIFFERENCE_H */
