/**
 * @file fitml_mul_s8.c
 * @brief int8 MUL with broadcasting (TFLM MulElementwise / BroadcastMul).
 */
#include "fitml/fitml_elementwise.h"
#include "fitml/fitml_support.h"
#include "fitml_broadcast_loop.h"

/* (a - zp1) * (b - zp2), requantized. */
static inline int8_t mul_one(const fitml_mul_s8_params *p, int32_t a, int32_t b, int op)
{
    (void)op;
    return fitml_requant_s8((a - p->input1_zp) * (b - p->input2_zp), p->output_multiplier,
                            p->output_shift, p->output_zp, p->act_min, p->act_max);
}

FITML_DEFINE_BROADCAST(mul_s8, fitml_mul_s8_params, int8_t, mul_one)

fitml_status fitml_mul_s8(const fitml_mul_s8_params *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output)
{
    return mul_s8(p, input1, input2, output, 0);
}
