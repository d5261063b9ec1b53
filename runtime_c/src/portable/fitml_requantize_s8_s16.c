/**
 * @file fitml_requantize_s8_s16.c
 * @brief int8 -> int16 QUANTIZE (TFLM Requantize).
 */
#include "fitml/fitml_int16.h"
#include "fitml_quant_loop.h"

FITML_DEFINE_REQUANTIZE(fitml_requantize_s8_s16, int8_t, int16_t)
