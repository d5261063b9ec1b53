/**
 * @file fitml_mean_f32.c
 * @brief float32 MEAN: float sum over the reduced walk, divided by count.
 */
#include "fitml_mean_loop.h"

FITML_DEFINE_MEAN(fitml_mean_f32, fitml_mean_f32_params, float, float, FITML_MEAN_F32)
