/**
 * @file fitml_cos_f32.c
 * @brief float32 COS: cosf(x) per element.
 */
#include "fitml_float_unary.h"

FITML_DEFINE_FLOAT_UNARY(fitml_cos_f32, cosf)
