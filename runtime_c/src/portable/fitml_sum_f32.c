/**
 * @file fitml_sum_f32.c
 * @brief float32 SUM: float sum over the reduced walk in input order (TFLM's order).
 */
#include "fitml_mean_loop.h"

FITML_DEFINE_MEAN(fitml_sum_f32, fitml_reduce_params, float, float, FITML_REDUCE_KEEP)
