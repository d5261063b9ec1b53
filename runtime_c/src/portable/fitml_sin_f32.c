/**
 * @file fitml_sin_f32.c
 * @brief float32 SIN: sinf(x) per element.
 */
#include "fitml_float_unary.h"

FITML_DEFINE_FLOAT_UNARY(fitml_sin_f32, sinf)
