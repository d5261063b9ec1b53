/**
 * @file fitml_mean_s16.c
 * @brief int16 MEAN (TFLM QuantizedMeanOrSum): int32 raw sum over the reduced walk, minus
 *        input_zp * count, requantized by a multiplier with 1/count folded in.
 */
#include "fitml/fitml_int16.h"
#include "fitml_mean_loop.h"

FITML_DEFINE_MEAN(fitml_mean_s16, fitml_mean_s8_params, int16_t, uint32_t, FITML_MEAN_S16)
