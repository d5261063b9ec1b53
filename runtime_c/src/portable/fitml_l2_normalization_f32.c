/**
 * @file fitml_l2_normalization_f32.c
 * @brief float32 L2_NORMALIZATION (TFLM reference_ops::L2Normalization, epsilon 1e-6).
 *
 * Floating-point contraction stays off: TFLM rounds each square and each sum on its own.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <math.h>

#include "fitml/fitml_math.h"

fitml_status fitml_l2_normalization_f32(const fitml_l2_normalization_params *p,
                                        const float *input, float *output)
{
    int32_t i, c;
    if (p == NULL || input == NULL || output == NULL || p->outer < 0 || p->depth < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->outer; i++) {
        const float *row = input + (size_t)i * (size_t)p->depth;
        float *out = output + (size_t)i * (size_t)p->depth;
        float acc = 0.0f, norm;
        for (c = 0; c < p->depth; c++) {
            acc += row[c] * row[c];
        }
        norm = sqrtf(acc);
        norm = norm < 1e-6f ? 1e-6f : norm;
        for (c = 0; c < p->depth; c++) {
            out[c] = row[c] / norm;
        }
    }
    return FITML_OK;
}
