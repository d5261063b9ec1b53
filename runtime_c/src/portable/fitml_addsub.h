/**
 * @file fitml_addsub.h
 * @brief Internal: the int8 and int16 ADD/SUB kernels (TFLM AddFunc / SubFunc and the
 *        general-scale int16 path): one per-element formula, one broadcast loop.
 */
#ifndef FITML_ADDSUB_H
#define FITML_ADDSUB_H

#include "fitml/fitml_support.h"
#include "fitml_broadcast_loop.h"

/** @brief The inputs rescaled to a common scale, summed (sign +1) or subtracted (sign -1). */
static inline int32_t fitml_addsub_sum(const fitml_add_s8_params *p, int32_t q1, int32_t q2,
                                       int sign)
{
    const int32_t a1 = fitml_mbqm(fitml_wrap_shl(q1 - p->input1_zp, p->left_shift),
                                  p->input1_multiplier, p->input1_shift);
    const int32_t a2 = fitml_mbqm(fitml_wrap_shl(q2 - p->input2_zp, p->left_shift),
                                  p->input2_multiplier, p->input2_shift);
    return sign > 0 ? fitml_wrap_add(a1, a2) : fitml_wrap_sub(a1, a2);
}

/** @brief One int8 output of ADD (sign +1) or SUB (sign -1). Spelled out rather than calling
 *         fitml_addsub_sum: the extra call level changes GCC's inlining of the fused
 *         CONV_2D + ADD kernel (fitml_conv_direct.h), costing instructions. */
static inline int8_t fitml_addsub_one(const fitml_add_s8_params *p, int32_t q1, int32_t q2,
                                      int sign)
{
    const int32_t a1 = fitml_mbqm(fitml_wrap_shl(q1 - p->input1_zp, p->left_shift),
                                  p->input1_multiplier, p->input1_shift);
    const int32_t a2 = fitml_mbqm(fitml_wrap_shl(q2 - p->input2_zp, p->left_shift),
                                  p->input2_multiplier, p->input2_shift);
    const int32_t sum = sign > 0 ? fitml_wrap_add(a1, a2) : fitml_wrap_sub(a1, a2);
    return fitml_requant_s8(sum, p->output_multiplier, p->output_shift, p->output_zp,
                            p->act_min, p->act_max);
}

/** @brief One int16 output of ADD (sign +1) or SUB (sign -1). */
static inline int16_t fitml_addsub_one_s16(const fitml_add_s8_params *p, int32_t q1,
                                           int32_t q2, int sign)
{
    return (int16_t)fitml_clamp(fitml_mbqm(fitml_addsub_sum(p, q1, q2, sign),
                                           p->output_multiplier, p->output_shift)
                                + p->output_zp, p->act_min, p->act_max);
}

/* fitml_addsub_s8 / fitml_addsub_s16(p, in1, in2, out, sign): the broadcast loops. */
FITML_DEFINE_BROADCAST(fitml_addsub_s8, fitml_add_s8_params, int8_t, fitml_addsub_one)
FITML_DEFINE_BROADCAST(fitml_addsub_s16, fitml_add_s8_params, int16_t, fitml_addsub_one_s16)

#endif /* FITML_ADDSUB_H */
