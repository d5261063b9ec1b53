/**
 * @file fitml_maxpool_s8.c
 * @brief int8 MAX_POOL_2D on raw codes (TFLM reference MaxPool, int8).
 */
#include "fitml/fitml_pool.h"
#include "fitml_pool_loop.h"

FITML_DEFINE_POOL(fitml_maxpool_s8, fitml_pool_s8_params, int8_t, int32_t,
                  -128, FITML_POOL_MAX, FITML_POOL_CLAMP_I, 0)
