/**
 * @file fitml_avgpool_s8.c
 * @brief int8 AVERAGE_POOL_2D on raw codes (TFLM reference AveragePool, int8).
 */
#include "fitml/fitml_pool.h"
#include "fitml_pool_loop.h"

FITML_DEFINE_POOL(fitml_avgpool_s8, fitml_pool_s8_params, int8_t, int32_t,
                  0, FITML_POOL_SUM, FITML_POOL_AVG_I, 1)
