/**
 * @file fitml_cumsum_loop.h
 * @brief Internal: CUMSUM's walk over [outer, depth, inner] in TFLM's order, shared by the
 *        float32, int32 and int8 kernels (each brings its accumulator type and step).
 */
#ifndef FITML_CUMSUM_LOOP_H
#define FITML_CUMSUM_LOOP_H

#include "fitml/fitml_reduce.h"

/* Defines `fitml_cumsum_<suffix>`: ACC is the accumulator type, START(acc) sets it, LOAD(v)
 * turns one input element into a summand, ADD(a, b) adds, STORE(acc) gives an output element. */
#define FITML_DEFINE_CUMSUM(NAME, PARAMS, GEOM, IN_T, ACC, START, LOAD, ADD, STORE)          \
    fitml_status NAME(const PARAMS *p, const IN_T *input, IN_T *output)                       \
    {                                                                                        \
        int32_t o, k, d;                                                                     \
        if (p == NULL || input == NULL || output == NULL || GEOM.outer < 0 ||                 \
            GEOM.depth < 0 || GEOM.inner < 0) {                                              \
            return FITML_ERR_ARGUMENT;                                                       \
        }                                                                                    \
        for (o = 0; o < GEOM.outer; o++) {                                                   \
            for (k = 0; k < GEOM.inner; k++) {                                               \
                ACC acc = START;                                                             \
                for (d = 0; d < GEOM.depth; d++) {                                           \
                    int32_t step = GEOM.reverse ? GEOM.depth - 1 - d : d;                     \
                    size_t at = ((size_t)o * (size_t)GEOM.depth + (size_t)step)              \
                                * (size_t)GEOM.inner + (size_t)k;                            \
                    ACC v = LOAD(input[at]);                                                 \
                    if (GEOM.exclusive) {                                                    \
                        output[at] = STORE(acc);                                             \
                        acc = ADD(acc, v);                                                   \
                    } else {                                                                 \
                        acc = ADD(acc, v);                                                   \
                        output[at] = STORE(acc);                                             \
                    }                                                                        \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
        return FITML_OK;                                                                     \
    }

#endif /* FITML_CUMSUM_LOOP_H */
