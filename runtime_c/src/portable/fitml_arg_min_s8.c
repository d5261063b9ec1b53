/**
 * @file fitml_arg_min_s8.c
 * @brief ARG_MIN of int8_t values: the first index holding the smallest value, as TFLM.
 */
#include "fitml_arg_loop.h"

FITML_DEFINE_ARG(fitml_arg_min_s8, int8_t, <)
