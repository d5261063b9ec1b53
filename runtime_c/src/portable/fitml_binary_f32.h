/**
 * @file fitml_binary_f32.h
 * @brief Internal: the float32 ADD/SUB/MUL broadcast loop; `op` is a constant at each call
 *        site, so the switch folds away after inlining.
 */
#ifndef FITML_BINARY_F32_H
#define FITML_BINARY_F32_H

#include "fitml_walk.h"

enum { FITML_BIN_ADD, FITML_BIN_SUB, FITML_BIN_MUL };

/** @brief out = clamp(a op b, act_min, act_max) over the broadcast walk. */
static inline fitml_status fitml_binary_f32(const fitml_binary_f32_params *p, const float *in1,
                                            const float *in2, float *out, int op)
{
    int32_t idx[FITML_MAX_DIMS] = {0};
    int32_t o1 = 0, o2 = 0, i, inner, s1, s2;
    fitml_status st;
    if (p == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    st = fitml_broadcast_check(&p->bc, in1, in2, out);
    if (st != FITML_OK || fitml_dims_count(p->bc.rank, p->bc.dims) == 0) {
        return st;
    }
    inner = p->bc.dims[p->bc.rank - 1];
    s1 = p->bc.strides1[p->bc.rank - 1];
    s2 = p->bc.strides2[p->bc.rank - 1];
    do {
        for (i = 0; i < inner; i++) {
            const float a = in1[o1 + i * s1], b = in2[o2 + i * s2];
            float v = op == FITML_BIN_ADD ? a + b : (op == FITML_BIN_SUB ? a - b : a * b);
            v = v < p->act_min ? p->act_min : v;
            *out++ = v > p->act_max ? p->act_max : v;
        }
    } while (fitml_broadcast_next(&p->bc, idx, &o1, &o2));
    return FITML_OK;
}

#endif /* FITML_BINARY_F32_H */
