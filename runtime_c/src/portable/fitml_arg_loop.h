/**
 * @file fitml_arg_loop.h
 * @brief Internal: the one ARG_MAX / ARG_MIN loop, stamped out per kernel by FITML_DEFINE_ARG:
 *        per (outer, inner) position, the first index along the axis whose value no later one
 *        beats with the strict comparison BETTER (TFLM's ArgMinMax with std::greater / less).
 */
#ifndef FITML_ARG_LOOP_H
#define FITML_ARG_LOOP_H

#include "fitml/fitml_reduce.h"

#define FITML_DEFINE_ARG(NAME, T, BETTER)                                                        \
    fitml_status NAME(const fitml_arg_max_params *p, const T *input, int32_t *output)            \
    {                                                                                            \
        int32_t o, j, i;                                                                         \
        if (p == NULL || input == NULL || output == NULL || p->axis_size < 1) {                  \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        for (o = 0; o < p->outer; o++) {                                                         \
            const T *slab = input + (size_t)o * p->axis_size * p->inner;                         \
            for (j = 0; j < p->inner; j++) {                                                     \
                T best = slab[j];                                                                \
                int32_t index = 0;                                                               \
                for (i = 1; i < p->axis_size; i++) {                                             \
                    const T value = slab[(size_t)i * p->inner + j];                              \
                    if (value BETTER best) {                                                     \
                        best = value;                                                            \
                        index = i;                                                               \
                    }                                                                            \
                }                                                                                \
                *output++ = index;                                                               \
            }                                                                                    \
        }                                                                                        \
        return FITML_OK;                                                                         \
    }

#endif /* FITML_ARG_LOOP_H */
