/**
 * @file fitml_ceil_f32.c
 * @brief float32 CEIL: ceilf(x) per element.
 */
#include "fitml_float_unary.h"

FITML_DEFINE_FLOAT_UNARY(fitml_ceil_f32, ceilf)
