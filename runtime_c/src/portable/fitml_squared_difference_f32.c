/**
 * @file fitml_squared_difference_f32.c
 * @brief float32 SQUARED_DIFFERENCE with broadcasting.
 */
#include "fitml/fitml_math.h"
#include "fitml_broadcast_loop.h"

static inline float sqdiff_one(const fitml_binary_f32_params *p, float a, float b, int op)
{
    const float d = a - b;
    (void)p;
    (void)op;
    return d * d;
}

FITML_DEFINE_BROADCAST(sqdiff_f32, fitml_binary_f32_params, float, sqdiff_one)

fitml_status fitml_squared_difference_f32(const fitml_binary_f32_params *p,
                                          const float *input1, const float *input2,
                                          float *output)
{
    return sqdiff_f32(p, input1, input2, output, 0);
}
