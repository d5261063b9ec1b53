/**
 * @file fitml_transpose_conv_loop.h
 * @brief Internal: the scatter loop of TRANSPOSE_CONV (f32, s8, s16), stamped out per kernel by
 *        FITML_TCONV_SCATTER so each type keeps its native accumulator.
 */
#ifndef FITML_TRANSPOSE_CONV_LOOP_H
#define FITML_TRANSPOSE_CONV_LOOP_H

#include <stddef.h>

#include "fitml/fitml_support.h"
#include "fitml/fitml_transpose_conv.h"

/* Nonzero when the geometry is one TRANSPOSE_CONV runs: filter [C_out][KH][KW][C_in] matching
 * the input and output channels and batches, positive strides. */
static inline int fitml_tconv_geom_ok(const fitml_conv_geom *g)
{
    return g->filter.c == g->input.c && g->filter.n == g->output.c && g->input.n == g->output.n
           && g->stride_h > 0 && g->stride_w > 0 && g->filter.h > 0 && g->filter.w > 0;
}

/* Zero `acc` (the output's element count of ACC_T), then for every input value x (batch, row,
 * column, channel in that order) and every tap (ky, kx) landing inside the output, add
 * TERM(x, w) for each output channel's weight w: each output element's terms arrive in TFLM's
 * order (input row, column, channel), which for float32 is its rounding order too. ADD(a, t)
 * is the accumulator after one more term. */
#define FITML_TCONV_SCATTER(g, input, acc, ACC_T, TERM, ADD)                                  \
    do {                                                                                      \
        const size_t total_ = (size_t)(g)->output.n * (g)->output.h * (g)->output.w           \
                              * (g)->output.c;                                                \
        const size_t wstep_ = (size_t)(g)->filter.h * (g)->filter.w * (g)->filter.c;          \
        size_t i_;                                                                            \
        int32_t b_, iy_, ix_, ic_, ky_, kx_, oc_;                                             \
        for (i_ = 0; i_ < total_; i_++) {                                                     \
            (acc)[i_] = (ACC_T)0;                                                             \
        }                                                                                     \
        for (b_ = 0; b_ < (g)->input.n; b_++) {                                               \
            for (iy_ = 0; iy_ < (g)->input.h; iy_++) {                                        \
                for (ix_ = 0; ix_ < (g)->input.w; ix_++) {                                    \
                    for (ic_ = 0; ic_ < (g)->input.c; ic_++) {                                \
                        const size_t at_ = (((size_t)b_ * (g)->input.h + iy_) * (g)->input.w  \
                                            + ix_) * (g)->input.c + ic_;                      \
                        for (ky_ = 0; ky_ < (g)->filter.h; ky_++) {                           \
                            const int32_t oy_ = iy_ * (g)->stride_h - (g)->pad_h + ky_;       \
                            if (oy_ < 0 || oy_ >= (g)->output.h) {                            \
                                continue;                                                     \
                            }                                                                 \
                            for (kx_ = 0; kx_ < (g)->filter.w; kx_++) {                       \
                                const int32_t ox_ = ix_ * (g)->stride_w - (g)->pad_w + kx_;   \
                                ACC_T *row_;                                                  \
                                const size_t w0_ = ((size_t)ky_ * (g)->filter.w + kx_)        \
                                                   * (g)->filter.c + ic_;                     \
                                if (ox_ < 0 || ox_ >= (g)->output.w) {                        \
                                    continue;                                                 \
                                }                                                             \
                                row_ = (acc) + (((size_t)b_ * (g)->output.h + oy_)            \
                                                * (g)->output.w + ox_) * (g)->output.c;       \
                                for (oc_ = 0; oc_ < (g)->output.c; oc_++) {                   \
                                    row_[oc_] = ADD(row_[oc_], TERM((input)[at_],             \
                                        p->filter[(size_t)oc_ * wstep_ + w0_]));              \
                                }                                                             \
                            }                                                                 \
                        }                                                                     \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    } while (0)

#endif /* FITML_TRANSPOSE_CONV_LOOP_H */
