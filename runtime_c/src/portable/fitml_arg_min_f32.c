/**
 * @file fitml_arg_min_f32.c
 * @brief ARG_MIN of float values: the first index holding the smallest value, as TFLM (a NaN
 *        never compares less).
 */
#include "fitml_arg_loop.h"

FITML_DEFINE_ARG(fitml_arg_min_f32, float, <)
