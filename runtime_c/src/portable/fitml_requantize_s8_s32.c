/**
 * @file fitml_requantize_s8_s32.c
 * @brief int8_t -> int32_t QUANTIZE (TFLM Requantize; its int8 <-> uint8 XOR fast path gives the same
 *        codes).
 */
#include "fitml/fitml_quantize.h"
#include "fitml_quant_loop.h"

FITML_DEFINE_REQUANTIZE(fitml_requantize_s8_s32, int8_t, int32_t)
