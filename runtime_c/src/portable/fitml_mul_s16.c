/**
 * @file fitml_mul_s16.c
 * @brief int16 MUL with broadcasting (TFLM reference_integer_ops::Mul<int16_t>: the int8
 *        arithmetic, zero points 0, clamped within the int16 range).
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"
#include "fitml_broadcast_loop.h"

/* (a - zp1) * (b - zp2) fits int32 for int16 operands; requantized, + zp_out, clamped. */
static inline int16_t mul_one(const fitml_mul_s8_params *p, int32_t a, int32_t b, int op)
{
    (void)op;
    return (int16_t)fitml_clamp(fitml_mbqm((a - p->input1_zp) * (b - p->input2_zp),
                                           p->output_multiplier, p->output_shift)
                                    + p->output_zp,
                                p->act_min, p->act_max);
}

FITML_DEFINE_BROADCAST(mul_s16, fitml_mul_s8_params, int16_t, mul_one)

fitml_status fitml_mul_s16(const fitml_mul_s8_params *p, const int16_t *input1,
                           const int16_t *input2, int16_t *output)
{
    return mul_s16(p, input1, input2, output, 0);
}
