/**
 * @file fitml_div_f32.c
 * @brief float32 DIV with broadcasting and a fused clamp.
 */
#include "fitml/fitml_math.h"
#include "fitml_broadcast_loop.h"

static inline float div_one(const fitml_binary_f32_params *p, float a, float b, int op)
{
    float v = a / b;
    (void)op;
    v = v < p->act_min ? p->act_min : v;
    return v > p->act_max ? p->act_max : v;
}

FITML_DEFINE_BROADCAST(div_f32, fitml_binary_f32_params, float, div_one)

fitml_status fitml_div_f32(const fitml_binary_f32_params *p, const float *input1,
                           const float *input2, float *output)
{
    return div_f32(p, input1, input2, output, 0);
}
