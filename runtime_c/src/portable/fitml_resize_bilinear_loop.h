/**
 * @file fitml_resize_bilinear_loop.h
 * @brief Internal: the pixel walk of RESIZE_BILINEAR (f32, s8), stamped out per kernel by
 *        FITML_RESIZE_BILINEAR_WALK so each type keeps its own weights and arithmetic.
 */
#ifndef FITML_RESIZE_BILINEAR_LOOP_H
#define FITML_RESIZE_BILINEAR_LOOP_H

#include <stddef.h>

#include "fitml/fitml_resize.h"

/* For every output pixel (batch, row, column) in order: the four source pixels a (y0, x0),
 * bl (y1, x0), cr (y0, x1), d (y1, x1) and the weights wy0/wy1, wx0/wx1 (W_T; the fractions
 * p->dy, p->dx and ONE - fraction); PIXEL(c) then writes channel c of the output pixel to
 * *output++. Returns FITML_ERR_ARGUMENT from the calling kernel on a missing table. */
#define FITML_RESIZE_BILINEAR_WALK(p, input, output, T, W_T, ONE, PIXEL)                      \
    do {                                                                                      \
        const fitml_resize_geom *g_;                                                          \
        int32_t b_, y_, x_, c;                                                                \
        if ((p) == NULL || (input) == NULL || (output) == NULL || (p)->dy == NULL             \
            || (p)->dx == NULL) {                                                             \
            return FITML_ERR_ARGUMENT;                                                        \
        }                                                                                     \
        g_ = &(p)->geom;                                                                      \
        if (g_->y0 == NULL || g_->y1 == NULL || g_->x0 == NULL || g_->x1 == NULL) {           \
            return FITML_ERR_ARGUMENT;                                                        \
        }                                                                                     \
        for (b_ = 0; b_ < g_->batches; b_++) {                                                \
            const T *image_ = (input) + (size_t)b_ * g_->in_h * g_->in_w * g_->depth;         \
            for (y_ = 0; y_ < g_->out_h; y_++) {                                              \
                const W_T wy1 = (p)->dy[y_], wy0 = (ONE) - wy1;                               \
                const T *r0_ = image_ + (size_t)g_->y0[y_] * g_->in_w * g_->depth;            \
                const T *r1_ = image_ + (size_t)g_->y1[y_] * g_->in_w * g_->depth;            \
                for (x_ = 0; x_ < g_->out_w; x_++) {                                          \
                    const W_T wx1 = (p)->dx[x_], wx0 = (ONE) - wx1;                           \
                    const T *a = r0_ + (size_t)g_->x0[x_] * g_->depth;                        \
                    const T *bl = r1_ + (size_t)g_->x0[x_] * g_->depth;                       \
                    const T *cr = r0_ + (size_t)g_->x1[x_] * g_->depth;                       \
                    const T *d = r1_ + (size_t)g_->x1[x_] * g_->depth;                        \
                    for (c = 0; c < g_->depth; c++) {                                         \
                        PIXEL(c);                                                             \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    } while (0)

#endif /* FITML_RESIZE_BILINEAR_LOOP_H */
