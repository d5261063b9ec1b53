/**
 * @file fitml_requantize_s16_s8.c
 * @brief int16 -> int8 QUANTIZE (TFLM Requantize).
 */
#include "fitml/fitml_int16.h"
#include "fitml_quant_loop.h"

FITML_DEFINE_REQUANTIZE(fitml_requantize_s16_s8, int16_t, int8_t)
