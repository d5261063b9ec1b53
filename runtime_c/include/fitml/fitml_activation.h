/**
 * @file fitml_activation.h
 * @brief SOFTMAX, LOGISTIC, TANH and RELU-family kernels (int8 and float32).
 *
 * The int8 transcendental kernels use gemmlowp fixed point (no lookup table, no libm), as
 * TFLM's reference kernels do. The float32 ones use <math.h> and live in separate files.
 */
#ifndef FITML_ACTIVATION_H
#define FITML_ACTIVATION_H

#include "fitml_types.h"

/**
 * @brief int8 SOFTMAX over the last axis (output scale 1/256, zero point -128).
 * @param p      parameters (rows x depth, beta multiplier, diff_min)
 * @param input  [rows][depth] int8
 * @param output [rows][depth] int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_softmax_s8(const fitml_softmax_s8_params *p, const int8_t *input,
                              int8_t *output);

/**
 * @brief float32 SOFTMAX: exp(beta * (x - max)) / sum, as TFLite's reference kernel.
 * @param p      parameters
 * @param input  [rows][depth] float
 * @param output [rows][depth] float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_softmax_f32(const fitml_softmax_f32_params *p, const float *input,
                               float *output);

/**
 * @brief int8 LOGISTIC (output scale 1/256, zero point -128 assumed, as TFLM).
 * @param p      parameters
 * @param input  int8
 * @param output int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_logistic_s8(const fitml_logistic_s8_params *p, const int8_t *input,
                               int8_t *output);

/**
 * @brief float32 LOGISTIC with TFLite's cutoffs (1 above 16.619047, exp(x) below -9).
 * @param p      element count
 * @param input  float
 * @param output float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_logistic_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief int8 TANH (output scale 1/128, zero point 0 assumed, as TFLM).
 * @param p      parameters
 * @param input  int8
 * @param output int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_tanh_s8(const fitml_tanh_s8_params *p, const int8_t *input, int8_t *output);

/**
 * @brief float32 TANH (tanhf).
 * @param p      element count
 * @param input  float
 * @param output float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_tanh_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief int8 RELU as TFLM ReluQuantized: a requantization clamped to [max(-128, zp_out), 127]
 *        (the bounds are in the parameters).
 * @param p      parameters
 * @param input  int8
 * @param output int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_relu_s8(const fitml_requantize_s8_params *p, const int8_t *input,
                           int8_t *output);

/**
 * @brief int8 RELU6 as TFLM Relu6Quantized: clamps raw codes, no requantization.
 * @param p      parameters (zero and six in the input's quantization)
 * @param input  int8
 * @param output int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_relu6_s8(const fitml_clamp_s8_params *p, const int8_t *input,
                            int8_t *output);

/**
 * @brief float32 clamp: RELU (0, FLT_MAX), RELU6 (0, 6), RELU_N1_TO_1 (-1, 1).
 * @param p      parameters
 * @param input  float
 * @param output float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_relu_f32(const fitml_clamp_f32_params *p, const float *input, float *output);

#endif /* FITML_ACTIVATION_H */
