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

#include "fitml/fitml_resize.h"

fitml_status fitml_resize_bilinear_f32(const fitml_resize_bilinear_f32_params *p,
                                       const float *input, float *output)
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
        const float *image = input + (size_t)b * g->in_h * g->in_w * g->depth;
        for (y = 0; y < g->out_h; y++) {
            const float wy1 = p->dy[y], wy0 = 1.0f - wy1;
            const float *r0 = image + (size_t)g->y0[y] * g->in_w * g->depth;
            const float *r1 = image + (size_t)g->y1[y] * g->in_w * g->depth;
            for (x = 0; x < g->out_w; x++) {
                const float wx1 = p->dx[x], wx0 = 1.0f - wx1;
                const float *a = r0 + (size_t)g->x0[x] * g->depth;
                const float *bl = r1 + (size_t)g->x0[x] * g->depth;
                const float *cr = r0 + (size_t)g->x1[x] * g->depth;
                const float *d = r1 + (size_t)g->x1[x] * g->depth;
                for (c = 0; c < g->depth; c++) {
                    *output++ = a[c] * wy0 * wx0 + bl[c] * wy1 * wx0 + cr[c] * wy0 * wx1
                                + d[c] * wy1 * wx1 + 0.0f;
                }
            }
        }
    }
    return FITML_OK;
}
