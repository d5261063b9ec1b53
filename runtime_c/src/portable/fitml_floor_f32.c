/**
 * @file fitml_floor_f32.c
 * @brief float32 FLOOR: floorf(x) per element.
 */
#include "fitml_float_unary.h"

FITML_DEFINE_FLOAT_UNARY(fitml_floor_f32, floorf)
