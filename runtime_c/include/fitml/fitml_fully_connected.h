/**
 * @file fitml_fully_connected.h
 * @brief FULLY_CONNECTED kernels (int8 and float32).
 */
#ifndef FITML_FULLY_CONNECTED_H
#define FITML_FULLY_CONNECTED_H

#include "fitml_types.h"

/**
 * @brief int8 FULLY_CONNECTED as TFLM's reference kernel (per-tensor or per-channel), bit for
 *        bit: a contiguous int8 dot product per output, plus the folded bias, requantized.
 * @param p      parameters
 * @param input  [batches][input_size] int8
 * @param output [batches][output_size] int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_fully_connected_s8(const fitml_fully_connected_s8_params *p,
                                      const int8_t *input, int8_t *output);

/**
 * @brief float32 FULLY_CONNECTED (sum in k order, then bias, then clamp).
 * @param p      parameters
 * @param input  [batches][input_size] float
 * @param output [batches][output_size] float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_fully_connected_f32(const fitml_fully_connected_f32_params *p,
                                       const float *input, float *output);

#endif /* FITML_FULLY_CONNECTED_H */
