/**
 * @file fitml_elementwise.h
 * @brief Binary element-wise kernels with broadcasting: ADD, SUB, MUL (int8 and float32).
 */
#ifndef FITML_ELEMENTWISE_H
#define FITML_ELEMENTWISE_H

#include "fitml_types.h"

/**
 * @brief int8 ADD as TFLM AddFunc: each input (q - zp) << left_shift is rescaled by its own
 *        multiplier, the sum by the output multiplier, then + output_zp and clamped.
 * @param p      parameters (broadcast walk, multipliers)
 * @param input1 int8 operand 1
 * @param input2 int8 operand 2
 * @param output int8 result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_add_s8(const fitml_add_s8_params *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output);

/**
 * @brief int8 SUB: ADD's arithmetic with the rescaled second input subtracted (TFLM derives
 *        the multipliers in float32; fitml's Python does the same).
 * @param p      parameters
 * @param input1 int8 minuend
 * @param input2 int8 subtrahend
 * @param output int8 result
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_sub_s8(const fitml_add_s8_params *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output);

/**
 * @brief int8 MUL: clamp(MBQM((q1 - zp1) * (q2 - zp2), M, s) + zp_out).
 * @param p      parameters
 * @param input1 int8 operand 1
 * @param input2 int8 operand 2
 * @param output int8 result
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_mul_s8(const fitml_mul_s8_params *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output);

/**
 * @brief float32 ADD then clamp.
 * @param p      parameters
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_add_f32(const fitml_binary_f32_params *p, const float *input1,
                           const float *input2, float *output);

/**
 * @brief float32 SUB then clamp.
 * @param p      parameters
 * @param input1 minuend
 * @param input2 subtrahend
 * @param output result
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_sub_f32(const fitml_binary_f32_params *p, const float *input1,
                           const float *input2, float *output);

/**
 * @brief float32 MUL then clamp.
 * @param p      parameters
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_mul_f32(const fitml_binary_f32_params *p, const float *input1,
                           const float *input2, float *output);

#endif /* FITML_ELEMENTWISE_H */
