/**
 * @file fitml_l2pool_f32.c
 * @brief float32 L2_POOL_2D (TFLM reference_ops::L2Pool): sqrtf(sum of the valid taps'
 *        squares / their count), then clamp.
 *
 * Floating-point contraction stays off: TFLM rounds each square and each sum on its own.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <math.h>

#include "fitml/fitml_pool.h"
#include "fitml_pool_loop.h"

#define FITML_L2POOL_STEP(acc, v) ((acc) + (v) * (v))
#define FITML_L2POOL_DONE(p, acc, count, out) \
    ((acc) = sqrtf((acc) / (float)(count)), FITML_POOL_CLAMP_F(p, acc, 0, out))

FITML_DEFINE_POOL(fitml_l2pool_f32, fitml_pool_f32_params, float, float,
                  0.0f, FITML_L2POOL_STEP, FITML_L2POOL_DONE, 1)
