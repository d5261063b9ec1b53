/**
 * @file fitml_maxpool_s16.c
 * @brief int16 MAX_POOL_2D on raw codes (TFLM reference MaxPool, int16).
 */
#include "fitml/fitml_int16.h"
#include "fitml_pool_loop.h"

FITML_DEFINE_POOL(fitml_maxpool_s16, fitml_pool_s8_params, int16_t, int32_t,
                  -32768, FITML_POOL_MAX, FITML_POOL_CLAMP_I, 0)
