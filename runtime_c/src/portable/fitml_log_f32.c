/**
 * @file fitml_log_f32.c
 * @brief float32 LOG: logf(x) per element.
 */
#include "fitml_float_unary.h"

FITML_DEFINE_FLOAT_UNARY(fitml_log_f32, logf)
