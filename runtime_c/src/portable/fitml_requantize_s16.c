/**
 * @file fitml_requantize_s16.c
 * @brief int16 -> int16 QUANTIZE (TFLM Requantize).
 */
#include "fitml/fitml_int16.h"
#include "fitml_quant_loop.h"

FITML_DEFINE_REQUANTIZE(fitml_requantize_s16, int16_t, int16_t)
