/**
 * @file fitml_binary_f32.h
 * @brief Internal: the float32 ADD/SUB/MUL broadcast loop; `op` is a constant at each call
 *        site, so the switch folds away after inlining.
 */
#ifndef FITML_BINARY_F32_H
#define FITML_BINARY_F32_H

#include "fitml_broadcast_loop.h"

enum { FITML_BIN_ADD, FITML_BIN_SUB, FITML_BIN_MUL };

/** @brief clamp(a op b, act_min, act_max). */
static inline float fitml_binary_one_f32(const fitml_binary_f32_params *p, float a, float b,
                                         int op)
{
    float v = op == FITML_BIN_ADD ? a + b : (op == FITML_BIN_SUB ? a - b : a * b);
    v = v < p->act_min ? p->act_min : v;
    return v > p->act_max ? p->act_max : v;
}

/* fitml_binary_f32(p, in1, in2, out, op): out = clamp(a op b) over the broadcast walk. */
FITML_DEFINE_BROADCAST(fitml_binary_f32, fitml_binary_f32_params, float, fitml_binary_one_f32)

#endif /* FITML_BINARY_F32_H */
