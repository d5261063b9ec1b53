/**
 * @file fitml_conv_s8.c
 * @brief int8 CONV_2D (TFLM ConvPerChannel), im2col per output pixel + int8 dot products
 *        (fitml_weighted_loop.h).
 */
#include "fitml/fitml_conv.h"
#include "fitml_weighted_loop.h"

size_t fitml_conv_s8_scratch_size(const fitml_conv_s8_params *p)
{
    /* shared with the DSP variant, which needs more: the planner reserves one size per op */
    return p == NULL ? 0 : fitml_conv_s8_scratch_bytes(&p->geom);
}

FITML_DEFINE_CONV_IM2COL(fitml_conv_s8, fitml_conv_s8_params, fitml_dot_s8_at)
