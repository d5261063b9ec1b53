/**
 * @file fitml_resize_bilinear_f32.c
 * @brief RESIZE_BILINEAR float32: TFLite's four products and sums in its order.
 *
 * Contraction is off for this file: an FMA would round a product and a sum once, not twice.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "fitml_resize_bilinear_loop.h"

#define RESIZE_F32_PIXEL(c)                                                                  \
    (*output++ = a[c] * wy0 * wx0 + bl[c] * wy1 * wx0 + cr[c] * wy0 * wx1 + d[c] * wy1 * wx1  \
                 + 0.0f)

fitml_status fitml_resize_bilinear_f32(const fitml_resize_bilinear_f32_params *p,
                                       const float *input, float *output)
{
    FITML_RESIZE_BILINEAR_WALK(p, input, output, float, float, 1.0f, RESIZE_F32_PIXEL);
    return FITML_OK;
}
