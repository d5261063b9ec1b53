/**
 * @file fitml_broadcast_loop.h
 * @brief Internal: the one broadcast loop of the binary elementwise kernels (ADD/SUB/MUL, f32,
 *        s8, s16), stamped out per element type by FITML_DEFINE_BROADCAST.
 */
#ifndef FITML_BROADCAST_LOOP_H
#define FITML_BROADCAST_LOOP_H

#include "fitml_walk.h"

/**
 * Defines `static inline fitml_status NAME(const PARAMS *p, const T *in1, const T *in2,
 * T *out, int op)`: *out++ = ONE(p, a, b, op) over the broadcast walk p->bc, a and b the two
 * inputs' values. `op` is a constant at each call site, so ONE's branches on it fold away.
 */
#define FITML_DEFINE_BROADCAST(NAME, PARAMS, T, ONE)                                             \
    FITML_DEFINE_BROADCAST_TO(NAME, PARAMS, T, T, ONE)

/** FITML_DEFINE_BROADCAST with an output element type TO of its own (comparisons: bool). */
#define FITML_DEFINE_BROADCAST_TO(NAME, PARAMS, T, TO, ONE)                                      \
    static inline fitml_status NAME(const PARAMS *p, const T *in1, const T *in2, TO *out,       \
                                    int op)                                                      \
    {                                                                                            \
        int32_t idx[FITML_MAX_DIMS] = {0};                                                       \
        int32_t o1 = 0, o2 = 0, i, inner, s1, s2;                                                \
        fitml_status st;                                                                         \
        if (p == NULL) {                                                                         \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        st = fitml_broadcast_check(&p->bc, in1, in2, out);                                       \
        if (st != FITML_OK || fitml_dims_count(p->bc.rank, p->bc.dims) == 0) {                   \
            return st;                                                                           \
        }                                                                                        \
        inner = p->bc.dims[p->bc.rank - 1];                                                      \
        s1 = p->bc.strides1[p->bc.rank - 1];                                                     \
        s2 = p->bc.strides2[p->bc.rank - 1];                                                     \
        do {                                                                                     \
            for (i = 0; i < inner; i++) {                                                        \
                *out++ = ONE(p, in1[o1 + i * s1], in2[o2 + i * s2], op);                         \
            }                                                                                    \
        } while (fitml_broadcast_next(&p->bc, idx, &o1, &o2));                                   \
        return FITML_OK;                                                                         \
    }

#endif /* FITML_BROADCAST_LOOP_H */
