/**
 * @file fitml_resize_bilinear_s8.c
 * @brief RESIZE_BILINEAR int8 (TFLite's ResizeBilinearInteger, default double rounding).
 *
 * With fractions dy, dx in 1/1024 (dy in [-512, 1023]; a negative one only where y0 == y1),
 * |weight sums| per axis stay <= 2048, so |sum| <= 128 * 2048 * 2048 = 2^29 fits int32.
 */
#include "fitml_resize_bilinear_loop.h"

#define RESIZE_S8_PIXEL(c)                                                                   \
    do {                                                                                     \
        const int32_t sum = a[c] * wy0 * wx0 + bl[c] * wy1 * wx0 + cr[c] * wy0 * wx1         \
                            + d[c] * wy1 * wx1;                                              \
        const int32_t biased = sum + (sum > 0 ? (1 << 19) : -(1 << 19));                     \
        *output++ = (int8_t)(biased / (1 << 20));                                            \
    } while (0)

fitml_status fitml_resize_bilinear_s8(const fitml_resize_bilinear_s8_params *p,
                                      const int8_t *input, int8_t *output)
{
    FITML_RESIZE_BILINEAR_WALK(p, input, output, int8_t, int32_t, 1024, RESIZE_S8_PIXEL);
    return FITML_OK;
}
