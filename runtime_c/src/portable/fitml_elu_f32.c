/**
 * @file fitml_elu_f32.c
 * @brief float32 ELU (TFLM reference_ops::Elu): x < 0 ? expm1f(x) : x per element.
 */
#include "fitml_float_unary.h"

#define FITML_ELU_ONE(x) ((x) < 0.0f ? expm1f(x) : (x))

FITML_DEFINE_FLOAT_UNARY(fitml_elu_f32, FITML_ELU_ONE)
