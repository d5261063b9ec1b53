/**
 * @file fitml_compare_s8.c
 * @brief int8 comparisons (TFLM *WithScaling): each input's (q - zp) << 8 rescaled by its own
 *        multiplier (shift <= 0), then compared, with broadcasting.
 */
#include "fitml/fitml_support.h"
#include "fitml_compare_loop.h"

#define FITML_COMPARE_LEFT_SHIFT 8

static inline int32_t fitml_compare_scaled(const fitml_compare_params *p, int k, int8_t q)
{
    const int32_t offset = k == 1 ? p->input1_offset : p->input2_offset;
    const int32_t mult = k == 1 ? p->input1_multiplier : p->input2_multiplier;
    const int32_t shift = k == 1 ? p->input1_shift : p->input2_shift;
    return fitml_mbqm(((int32_t)q + offset) * (1 << FITML_COMPARE_LEFT_SHIFT), mult, shift);
}

FITML_DEFINE_COMPARE(fitml_compare_s8, int8_t, fitml_compare_scaled)
