/**
 * @file fitml_maxpool_f32.c
 * @brief float32 MAX_POOL_2D (TFLite reference: max over valid taps, clamp).
 */
#include <float.h>

#include "fitml/fitml_pool.h"
#include "fitml_pool_loop.h"

FITML_DEFINE_POOL(fitml_maxpool_f32, fitml_pool_f32_params, float, float,
                  -FLT_MAX, FITML_POOL_MAX, FITML_POOL_CLAMP_F, 0)
