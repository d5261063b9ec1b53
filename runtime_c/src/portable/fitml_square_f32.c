/**
 * @file fitml_square_f32.c
 * @brief float32 SQUARE: x * x per element.
 */
#include "fitml_float_unary.h"

static inline float fitml_square_one(float x)
{
    return x * x;
}

FITML_DEFINE_FLOAT_UNARY(fitml_square_f32, fitml_square_one)
