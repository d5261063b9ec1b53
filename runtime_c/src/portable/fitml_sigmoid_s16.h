/**
 * @file fitml_sigmoid_s16.h
 * @brief Shared checks and input rescale of the int16 LOGISTIC / TANH kernels (internal).
 */
#ifndef FITML_SIGMOID_S16_H
#define FITML_SIGMOID_S16_H

#include "fitml/fitml_int16.h"

static inline int fitml_sigmoid_s16_bad(const fitml_logistic_s16_params *p, const void *input,
                                        const void *output)
{
    return p == NULL || input == NULL || output == NULL || p->table == NULL || p->size < 0
           || p->input_left_shift < 0 || p->input_left_shift > 31
           || p->input_multiplier < 0 || p->input_multiplier > 32767;
}

/** (q * multiplier + round) >> shift: |q * m| < 2^30 and round <= 2^30, so no overflow. */
static inline int32_t fitml_sigmoid_s16_rescale(const fitml_logistic_s16_params *p, int16_t q)
{
    const int32_t shift = p->input_left_shift;
    const int32_t round = shift > 0 ? (int32_t)(((uint32_t)1 << (shift - 1))) : 0;
    return ((int32_t)q * p->input_multiplier + round) >> shift;
}

#endif /* FITML_SIGMOID_S16_H */
