/**
 * @file fitml_add_n.h
 * @brief Internal: the argument check shared by the ADD_N kernels (TFLM add_n.cc).
 */
#ifndef FITML_ADD_N_H
#define FITML_ADD_N_H

#include "fitml/fitml_math.h"
#include "fitml/fitml_support.h"

/* Nonzero when a pointer is NULL or a count is out of range. */
static inline int fitml_add_n_bad(int32_t size, int32_t num_inputs, const void *const *inputs,
                                  const void *output)
{
    int32_t j;
    if (inputs == NULL || output == NULL || size < 0 || num_inputs < 1) {
        return 1;
    }
    for (j = 0; j < num_inputs; j++) {
        if (inputs[j] == NULL) {
            return 1;
        }
    }
    return 0;
}

#endif /* FITML_ADD_N_H */
