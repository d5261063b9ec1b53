/**
 * @file fitml_batch_matmul_loop.h
 * @brief The batch walk shared by the BATCH_MATMUL kernels: FITML_BATCH_MATMUL(name, params,
 *        T, ACC, init, product, store) defines `static void name(p, lhs, rhs, out)` visiting
 *        every output in row-major order, summing `product(a, b)` into an ACC from `init`.
 */
#ifndef FITML_BATCH_MATMUL_LOOP_H
#define FITML_BATCH_MATMUL_LOOP_H

#include "fitml/fitml_batch_matmul.h"

/** Nonzero when a geometry has a negative size or stride (never from fitml's lowering). */
static inline int fitml_bmm_bad(const fitml_batch_matmul_geom *g)
{
    int d;
    for (d = 0; d < 3; d++) {
        if (g->batch_dims[d] < 0 || g->lhs_batch_strides[d] < 0 || g->rhs_batch_strides[d] < 0) {
            return 1;
        }
    }
    return g->rows < 0 || g->cols < 0 || g->depth < 0 || g->lhs_row_stride < 0
           || g->lhs_depth_stride < 0 || g->rhs_depth_stride < 0 || g->rhs_col_stride < 0;
}

#define FITML_BATCH_MATMUL(name, params, T, ACC, init, product, store)                        \
    static void name(const params *p, const T *lhs, const T *rhs, T *out)                    \
    {                                                                                         \
        const fitml_batch_matmul_geom *g = &p->geom;                                         \
        int32_t b0, b1, b2, i, j, k;                                                          \
        for (b0 = 0; b0 < g->batch_dims[0]; b0++) {                                           \
            for (b1 = 0; b1 < g->batch_dims[1]; b1++) {                                       \
                for (b2 = 0; b2 < g->batch_dims[2]; b2++) {                                   \
                    const T *l0 = lhs + (size_t)b0 * g->lhs_batch_strides[0]                  \
                                  + (size_t)b1 * g->lhs_batch_strides[1]                      \
                                  + (size_t)b2 * g->lhs_batch_strides[2];                     \
                    const T *r0 = rhs + (size_t)b0 * g->rhs_batch_strides[0]                  \
                                  + (size_t)b1 * g->rhs_batch_strides[1]                      \
                                  + (size_t)b2 * g->rhs_batch_strides[2];                     \
                    for (i = 0; i < g->rows; i++) {                                           \
                        const T *l = l0 + (size_t)i * g->lhs_row_stride;                      \
                        for (j = 0; j < g->cols; j++) {                                       \
                            const T *r = r0 + (size_t)j * g->rhs_col_stride;                  \
                            ACC acc = (init);                                                 \
                            for (k = 0; k < g->depth; k++) {                                  \
                                acc = product(acc, l[(size_t)k * g->lhs_depth_stride],        \
                                              r[(size_t)k * g->rhs_depth_stride]);            \
                            }                                                                 \
                            *out++ = store(p, acc);                                           \
                        }                                                                     \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

#endif /* FITML_BATCH_MATMUL_LOOP_H */
