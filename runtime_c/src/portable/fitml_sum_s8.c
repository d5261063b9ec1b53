/**
 * @file fitml_sum_s8.c
 * @brief int8 SUM (TFLM QuantizedMeanOrSum with compute_sum): int32 raw sum over the reduced
 *        walk, minus input_zp * count, requantized by s_in / s_out, clamped.
 */
#include "fitml_mean_loop.h"

FITML_DEFINE_MEAN(fitml_sum_s8, fitml_mean_s8_params, int8_t, uint32_t, FITML_MEAN_S8)
