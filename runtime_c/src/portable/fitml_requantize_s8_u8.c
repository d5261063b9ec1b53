/**
 * @file fitml_requantize_s8_u8.c
 * @brief int8_t -> uint8_t QUANTIZE (TFLM Requantize; its int8 <-> uint8 XOR fast path gives the same
 *        codes).
 */
#include "fitml/fitml_quantize.h"
#include "fitml_quant_loop.h"

FITML_DEFINE_REQUANTIZE(fitml_requantize_s8_u8, int8_t, uint8_t)
