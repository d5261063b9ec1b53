/**
 * @file fitml_arg_max_s8.c
 * @brief ARG_MAX of int8_t values: the first index holding the greatest value, as TFLM.
 */
#include "fitml_arg_loop.h"

FITML_DEFINE_ARG(fitml_arg_max_s8, int8_t, >)
