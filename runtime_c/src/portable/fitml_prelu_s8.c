/**
 * @file fitml_prelu_s8.c
 * @brief int8 PRELU as TFLM BroadcastPrelu4DSlow: v = q - zp_in; v >= 0 is requantized with
 *        multiplier 1 (s_in / s_out), below v * (a - zp_alpha) with multiplier 2
 *        (s_in * s_alpha / s_out); + zp_out, clamp to int8.
 */
#include "fitml/fitml_activation.h"
#include "fitml/fitml_support.h"
#include "fitml_broadcast_loop.h"

static inline int8_t fitml_prelu_one_s8(const fitml_prelu_s8_params *p, int8_t q, int8_t a,
                                        int op)
{
    const int32_t v = p->input_offset + q;
    const int32_t out = v >= 0 ? fitml_mbqm(v, p->multiplier_1, p->shift_1)
                               : fitml_mbqm(v * (p->alpha_offset + a), p->multiplier_2,
                                            p->shift_2);
    (void)op;
    return (int8_t)fitml_clamp(out + p->output_offset, -128, 127);
}

FITML_DEFINE_BROADCAST(fitml_prelu_loop_s8, fitml_prelu_s8_params, int8_t, fitml_prelu_one_s8)

fitml_status fitml_prelu_s8(const fitml_prelu_s8_params *p, const int8_t *input,
                            const int8_t *alpha, int8_t *output)
{
    return fitml_prelu_loop_s8(p, input, alpha, output, 0);
}
