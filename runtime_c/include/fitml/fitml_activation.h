/**
 * @file fitml_activation.h
 * @brief SOFTMAX, LOGISTIC, TANH, RELU-family, HARD_SWISH, LEAKY_RELU and PRELU kernels (int8
 *        and float32).
 *
 * The int8 transcendental kernels use gemmlowp fixed point (no libm), as TFLM's reference
 * kernels do; where a table pays, fitml lowers them to fitml_lut_s8 (fitml_math.h) instead.
 * The float32 ones use <math.h> and live in separate files.
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

/**
 * @brief int8 HARD_SWISH as TFLM reference_ops::HardSwish (int16 fixed point, no table).
 * @param p      parameters (two Q0.15 multipliers and their exponents)
 * @param input  int8
 * @param output int8 (may be the input buffer)
 * @return FITML_OK, or FITML_ERR_ARGUMENT (also for an output shift outside [-31, 0])
 */
fitml_status fitml_hard_swish_s8(const fitml_hard_swish_s8_params *p, const int8_t *input,
                                 int8_t *output);

/**
 * @brief float32 HARD_SWISH: x * min(6, max(0, x + 3)) / 6, evaluated in that order.
 * @param p      element count
 * @param input  float
 * @param output float (may be the input buffer)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_hard_swish_f32(const fitml_size_params *p, const float *input,
                                  float *output);

/**
 * @brief int8 LEAKY_RELU as TFLM QuantizeLeakyRelu: MBQM of q - zp_in with the identity
 *        multiplier where it is >= 0, with the alpha multiplier below; + zp_out, clamp.
 * @param p      parameters
 * @param input  int8
 * @param output int8 (may be the input buffer)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_leaky_relu_s8(const fitml_leaky_relu_s8_params *p, const int8_t *input,
                                 int8_t *output);

/**
 * @brief float32 LEAKY_RELU: x > 0 ? x : x * alpha.
 * @param p      element count and alpha
 * @param input  float
 * @param output float (may be the input buffer)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_leaky_relu_f32(const fitml_leaky_relu_f32_params *p, const float *input,
                                  float *output);

/**
 * @brief int8 PRELU (TFLM BroadcastPrelu4DSlow): v = q - zp_in; v >= 0 ? v * M1 : v * (a -
 *        zp_alpha) * M2, + zp_out, clamped; alpha broadcast against the input.
 * @param p      broadcast walk, offsets and the two multipliers
 * @param input  int8
 * @param alpha  int8
 * @param output int8
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_prelu_s8(const fitml_prelu_s8_params *p, const int8_t *input,
                            const int8_t *alpha, int8_t *output);

/**
 * @brief float32 PRELU: x >= 0 ? x : x * alpha, alpha broadcast against the input.
 * @param p      broadcast walk
 * @param input  float
 * @param alpha  float
 * @param output float
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_prelu_f32(const fitml_broadcast_params *p, const float *input,
                             const float *alpha, float *output);

#endif /* FITML_ACTIVATION_H */
