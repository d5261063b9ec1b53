/**
 * @file fitml_avgpool_s16.c
 * @brief int16 AVERAGE_POOL_2D on raw codes (TFLM reference AveragePool, int16; int32 sum).
 */
#include "fitml/fitml_int16.h"
#include "fitml_pool_loop.h"

FITML_DEFINE_POOL(fitml_avgpool_s16, fitml_pool_s8_params, int16_t, int32_t,
                  0, FITML_POOL_SUM, FITML_POOL_AVG_I, 1)
