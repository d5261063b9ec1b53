/**
 * @file fitml_mean_s8.c
 * @brief int8 MEAN (TFLM QuantizedMeanOrSum): int32 raw sum over the reduced walk, minus
 *        input_zp * count, requantized by a multiplier with 1/count folded in.
 */
#include "fitml_mean_loop.h"

FITML_DEFINE_MEAN(fitml_mean_s8, fitml_mean_s8_params, int8_t, uint32_t, FITML_MEAN_S8)
