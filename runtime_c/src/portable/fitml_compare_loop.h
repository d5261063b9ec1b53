/**
 * @file fitml_compare_loop.h
 * @brief Internal: the comparison kernels' per-element test on two (already scaled) values and
 *        their broadcast loop, stamped out per input type by FITML_DEFINE_COMPARE.
 */
#ifndef FITML_COMPARE_LOOP_H
#define FITML_COMPARE_LOOP_H

#include "fitml/fitml_compare.h"
#include "fitml_broadcast_loop.h"

/** 1 when `a OP b` holds for the FITML_CMP_* code `op`. */
#define FITML_COMPARE_ONE(a, b, op)                                                              \
    ((op) == FITML_CMP_EQUAL ? (a) == (b)                                                        \
     : (op) == FITML_CMP_NOT_EQUAL ? (a) != (b)                                                  \
     : (op) == FITML_CMP_GREATER ? (a) > (b)                                                     \
     : (op) == FITML_CMP_GREATER_EQUAL ? (a) >= (b)                                              \
     : (op) == FITML_CMP_LESS ? (a) < (b) : (a) <= (b))

/**
 * Defines `fitml_status NAME(const fitml_compare_params *p, const T *in1, const T *in2,
 * uint8_t *out)` over the broadcast walk; SCALE(p, k, v) maps input k's value v first.
 */
#define FITML_DEFINE_COMPARE(NAME, T, SCALE)                                                     \
    static inline uint8_t NAME##_one(const fitml_compare_params *p, T a, T b, int op)            \
    {                                                                                            \
        return (uint8_t)FITML_COMPARE_ONE(SCALE(p, 1, a), SCALE(p, 2, b), op);                   \
    }                                                                                            \
    FITML_DEFINE_BROADCAST_TO(NAME##_loop, fitml_compare_params, T, uint8_t, NAME##_one)         \
    fitml_status NAME(const fitml_compare_params *p, const T *input1, const T *input2,           \
                      uint8_t *output)                                                           \
    {                                                                                            \
        if (p != NULL && (p->op < FITML_CMP_EQUAL || p->op > FITML_CMP_LESS_EQUAL)) {            \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        return NAME##_loop(p, input1, input2, output, p == NULL ? 0 : p->op);                    \
    }

/** The identity scaling (float32, int32). */
#define FITML_COMPARE_AS_IS(p, k, v) ((void)(p), (v))

#endif /* FITML_COMPARE_LOOP_H */
