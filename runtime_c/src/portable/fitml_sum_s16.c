/**
 * @file fitml_sum_s16.c
 * @brief int16 SUM (TFLM QuantizedMeanOrSum<int16_t> with compute_sum): as fitml_sum_s8 on
 *        int16 codes, clamped to int16.
 */
#include "fitml/fitml_int16.h"
#include "fitml_mean_loop.h"

FITML_DEFINE_MEAN(fitml_sum_s16, fitml_mean_s8_params, int16_t, uint32_t, FITML_MEAN_S16)
