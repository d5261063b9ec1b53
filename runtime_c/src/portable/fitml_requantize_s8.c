/**
 * @file fitml_requantize_s8.c
 * @brief int8 -> int8 requantization (TFLM Requantize; also RELU int8).
 */
#include "fitml_quant_loop.h"

FITML_DEFINE_REQUANTIZE(fitml_requantize_s8, int8_t, int8_t)
