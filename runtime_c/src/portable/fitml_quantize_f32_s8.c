/**
 * @file fitml_quantize_f32_s8.c
 * @brief float32 -> int8 QUANTIZE (TFLM AffineQuantize): roundf(v / scale) + zp, clamped.
 */
#include "fitml_quant_loop.h"

FITML_DEFINE_QUANTIZE(fitml_quantize_f32_s8, int8_t, 1024.0f, -128, 127)
