/**
 * @file fitml_quantize_f32_s16.c
 * @brief float32 -> int16 QUANTIZE (TFLM AffineQuantize): roundf(v / scale) + zp, clamped.
 */
#include "fitml/fitml_int16.h"
#include "fitml_quant_loop.h"

FITML_DEFINE_QUANTIZE(fitml_quantize_f32_s16, int16_t, 65536.0f, -32768, 32767)
