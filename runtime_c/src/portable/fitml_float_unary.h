/**
 * @file fitml_float_unary.h
 * @brief Internal: the one loop of the float32 element-wise functions (EXP-like kernels taking
 *        fitml_size_params), stamped out per function by FITML_DEFINE_FLOAT_UNARY.
 */
#ifndef FITML_FLOAT_UNARY_H
#define FITML_FLOAT_UNARY_H

#include <math.h>

#include "fitml/fitml_math.h"

/** Defines `fitml_status NAME(const fitml_size_params *p, const float *input, float *output)`:
 *  output[i] = ONE(input[i]), ONE a float -> float function or macro. */
#define FITML_DEFINE_FLOAT_UNARY(NAME, ONE)                                                      \
    fitml_status NAME(const fitml_size_params *p, const float *input, float *output)             \
    {                                                                                            \
        int32_t i;                                                                               \
        if (p == NULL || input == NULL || output == NULL || p->size < 0) {                       \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        for (i = 0; i < p->size; i++) {                                                          \
            output[i] = ONE(input[i]);                                                           \
        }                                                                                        \
        return FITML_OK;                                                                         \
    }

#endif /* FITML_FLOAT_UNARY_H */
