/**
 * @file fitml_reduce_max_f32.c
 * @brief float32 REDUCE_MAX: the greatest value over the reduced walk, from -FLT_MAX (TFLM's
 *        lowest()); a NaN never compares greater.
 */
#include <float.h>

#include "fitml_mean_loop.h"

FITML_DEFINE_REDUCE(fitml_reduce_max_f32, fitml_reduce_params, float, float, -FLT_MAX,
                    FITML_REDUCE_MAX, FITML_REDUCE_KEEP)
