/**
 * @file fitml_prelu_f32.c
 * @brief float32 PRELU: x >= 0 ? x : x * alpha, alpha broadcast against the input (TFLM
 *        BroadcastPrelu4DSlowFloat).
 */
#include "fitml/fitml_activation.h"
#include "fitml_broadcast_loop.h"

static inline float fitml_prelu_one_f32(const fitml_broadcast_params *p, float x, float a,
                                        int op)
{
    (void)p;
    (void)op;
    return x >= 0.0f ? x : x * a;
}

FITML_DEFINE_BROADCAST(fitml_prelu_loop_f32, fitml_broadcast_params, float, fitml_prelu_one_f32)

fitml_status fitml_prelu_f32(const fitml_broadcast_params *p, const float *input,
                             const float *alpha, float *output)
{
    return fitml_prelu_loop_f32(p, input, alpha, output, 0);
}
