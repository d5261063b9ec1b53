/**
 * @file fitml_requantize_s16_s32.c
 * @brief int16_t -> int32_t QUANTIZE (TFLM Requantize; its int8 <-> uint8 XOR fast path gives the same
 *        codes).
 */
#include "fitml/fitml_quantize.h"
#include "fitml_quant_loop.h"

FITML_DEFINE_REQUANTIZE(fitml_requantize_s16_s32, int16_t, int32_t)
