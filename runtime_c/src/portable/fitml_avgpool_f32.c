/**
 * @file fitml_avgpool_f32.c
 * @brief float32 AVERAGE_POOL_2D (TFLite reference: sum of valid taps / their count, clamp).
 */
#include "fitml/fitml_pool.h"
#include "fitml_pool_loop.h"

FITML_DEFINE_POOL(fitml_avgpool_f32, fitml_pool_f32_params, float, float,
                  0.0f, FITML_POOL_SUM, FITML_POOL_AVG_F, 1)
