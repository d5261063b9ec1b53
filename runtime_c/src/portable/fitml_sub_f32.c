/**
 * @file fitml_sub_f32.c
 * @brief float32 SUB with broadcasting and a fused clamp.
 */
#include "fitml/fitml_elementwise.h"
#include "fitml_binary_f32.h"

fitml_status fitml_sub_f32(const fitml_binary_f32_params *p, const float *input1,
                           const float *input2, float *output)
{
    return fitml_binary_f32(p, input1, input2, output, FITML_BIN_SUB);
}
