/**
 * @file fitml_requantize_s32_s8.c
 * @brief int32_t -> int8_t QUANTIZE (TFLM Requantize; its int8 <-> uint8 XOR fast path gives the same
 *        codes).
 */
#include "fitml/fitml_quantize.h"
#include "fitml_quant_loop.h"

FITML_DEFINE_REQUANTIZE(fitml_requantize_s32_s8, int32_t, int8_t)
