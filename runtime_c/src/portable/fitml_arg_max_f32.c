/**
 * @file fitml_arg_max_f32.c
 * @brief ARG_MAX of float values: the first index holding the greatest value, as TFLM (a NaN
 *        never compares greater).
 */
#include "fitml_arg_loop.h"

FITML_DEFINE_ARG(fitml_arg_max_f32, float, >)
