/**
 * @file fitml_reduce_max_s8.c
 * @brief int8 REDUCE_MAX: the greatest raw value over the reduced walk (TFLM requires equal
 *        input and output quantization, so no requantization).
 */
#include "fitml_mean_loop.h"

FITML_DEFINE_REDUCE(fitml_reduce_max_s8, fitml_reduce_params, int8_t, int32_t, -128,
                    FITML_REDUCE_MAX, FITML_REDUCE_KEEP)
