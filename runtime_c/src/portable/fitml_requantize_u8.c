/**
 * @file fitml_requantize_u8.c
 * @brief uint8_t -> uint8_t QUANTIZE (TFLM Requantize; its int8 <-> uint8 XOR fast path gives the same
 *        codes).
 */
#include "fitml/fitml_quantize.h"
#include "fitml_quant_loop.h"

FITML_DEFINE_REQUANTIZE(fitml_requantize_u8, uint8_t, uint8_t)
