/**
 * @file fitml_resize_bilinear_s8.c
 * @brief RESIZE_BILINEAR int8 (TFLite's ResizeBilinearInteger, default double rounding).
 *
 * With fractions dy, dx in 1/1024 (dy in [-512, 1023]; a negative one only where y0 == y1),
 * |weight sums| per axis stay <= 2048, so |sum| <= 128 * 2048 * 2048 = 2^29 fits int32.
 */
#include "fitml/fitml_resize.h"

fitml_status fitml_resize_bilinear_s8(const fitml_resize_bilinear_s8_params *p,
                                      const int8_t *input, int8_t *output)
{
    const fitml_resize_geom *g;
    int32_t b, y, x, c;
    if (p == NULL || input == NULL || output == NULL || p->dy == NULL || p->dx == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (g->y0 == NULL || g->y1 == NULL || g->x0 == NULL || g->x1 == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    for (b = 0; b < g->batches; b++) {
        const int8_t *image = input + (size_t)b * g->in_h * g->in_w * g->depth;
        for (y = 0; y < g->out_h; y++) {
            const int32_t wy1 = p->dy[y], wy0 = 1024 - wy1;
            const int8_t *r0 = image + (size_t)g->y0[y] * g->in_w * g->depth;
            const int8_t *r1 = image + (size_t)g->y1[y] * g->in_w * g->depth;
            for (x = 0; x < g->out_w; x++) {
                const int32_t wx1 = p->dx[x], wx0 = 1024 - wx1;
                const int8_t *a = r0 + (size_t)g->x0[x] * g->depth;
                const int8_t *bl = r1 + (size_t)g->x0[x] * g->depth;
                const int8_t *cr = r0 + (size_t)g->x1[x] * g->depth;
                const int8_t *d = r1 + (size_t)g->x1[x] * g->depth;
                for (c = 0; c < g->depth; c++) {
                    const int32_t sum = a[c] * wy0 * wx0 + bl[c] * wy1 * wx0
                                        + cr[c] * wy0 * wx1 + d[c] * wy1 * wx1;
                    const int32_t biased = sum + (sum > 0 ? (1 << 19) : -(1 << 19));
                    *output++ = (int8_t)(biased / (1 << 20));
                }
            }
        }
    }
    return FITML_OK;
}
