/**
 * @file fitml_int16.h
 * @brief int16 activations (TFLite's "16x8" scheme: int16 activations, int8 weights), bit for
 *        bit as TFLite Micro's reference int16 kernels.
 *
 * 16x8 tensors are symmetric (zero point 0), so conv, depthwise and FC add no offsets:
 * acc = sum(filter * input) + bias, accumulated exactly. With an int64 bias (the converter's
 * default; no bias counts as one) the accumulator is int64 and is requantized with the int64-x
 * MultiplyByQuantizedMultiplier (fitml_mbqm64: the multiplier reduced to 16 bits, one
 * rounding). TFLM also accepts an int32 bias for 16x8 CONV_2D and FULLY_CONNECTED; it then
 * accumulates in int32 (wrapping) and uses the ordinary double-rounding MBQM: `acc32` selects
 * that path, the bias array still holds int64 values.
 *
 * ADD/SUB, pools, MEAN and the requantizations reuse the int8 parameter structs: their fields
 * are generic (int32 zero points, clamps within the int16 range, ADD's left shift is 15).
 *
 * Parameter structs are mirrored by toolchain/backends/cruntime.py STRUCTS.
 */
#ifndef FITML_INT16_H
#define FITML_INT16_H

#include "fitml_types.h"

/** @brief CONV_2D int16 x int8 (groups = input.c / filter.c). */
typedef struct {
    fitml_conv_geom geom;
    const int8_t *filter;       /**< [C_out][KH][KW][C_in/groups] */
    const int64_t *bias;        /**< [C_out], never NULL (zeros when the model has none);
                                     DSP/MVE lowering appends 2 int64 words of requantization
                                     records per channel after them (dsp/fitml_dsp_s16.h) */
    fitml_requant requant;
    int32_t acc32;              /**< nonzero: int32 accumulator and MBQM (int32 model bias) */
    int32_t act_min, act_max;   /**< fused activation clamp, within [-32768, 32767] */
} fitml_conv_s16_params;

/** @brief DEPTHWISE_CONV_2D int16 x int8: output channel ic*depth_multiplier+m reads ic. */
typedef struct {
    fitml_conv_geom geom;
    int32_t depth_multiplier;
    const int8_t *filter;       /**< [KH][KW][C_out] */
    const int64_t *bias;        /**< [C_out], never NULL (+ DSP records, as conv) */
    fitml_requant requant;
    int32_t acc32;              /**< nonzero: int32 accumulator and MBQM */
    int32_t act_min, act_max;
} fitml_depthwise_conv_s16_params;

/** @brief FULLY_CONNECTED int16 x int8: out[b][n] from in[b][0..input_size). */
typedef struct {
    int32_t batches, input_size, output_size;
    const int8_t *filter;       /**< [output_size][input_size] */
    const int64_t *bias;        /**< [output_size], never NULL (+ DSP records, as conv) */
    fitml_requant requant;
    int32_t acc32;              /**< nonzero: int32 accumulator and MBQM */
    int32_t act_min, act_max;
} fitml_fully_connected_s16_params;

/**
 * @brief int16 CONV_2D (TFLM ConvPerChannel, int16 overload); padded taps add nothing.
 * @param p      parameters
 * @param input  NHWC int16
 * @param output NHWC int16
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_conv_s16(const fitml_conv_s16_params *p, const int16_t *input,
                            int16_t *output);

/**
 * @brief int16 DEPTHWISE_CONV_2D (TFLM DepthwiseConvPerChannel, int16 overload).
 * @param p      parameters
 * @param input  NHWC int16
 * @param output NHWC int16
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_depthwise_conv_s16(const fitml_depthwise_conv_s16_params *p,
                                      const int16_t *input, int16_t *output);

/**
 * @brief int16 FULLY_CONNECTED (TFLM FullyConnected / FullyConnectedPerChannel, int16).
 * @param p      parameters
 * @param input  [batches][input_size] int16
 * @param output [batches][output_size] int16
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_fully_connected_s16(const fitml_fully_connected_s16_params *p,
                                       const int16_t *input, int16_t *output);

/**
 * @brief int16 ADD with broadcasting (TFLM general-scale int16 Add: left_shift 15).
 * @param p      parameters (lut unused, may be NULL)
 * @param input1 int16
 * @param input2 int16
 * @param output int16 (may alias an input of the output's shape)
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_add_s16(const fitml_add_s8_params *p, const int16_t *input1,
                           const int16_t *input2, int16_t *output);

/**
 * @brief int16 MUL with broadcasting (TFLM Mul<int16_t>: MBQM of the product of the operands,
 *        zero points 0, + zp_out, clamp).
 * @param p      parameters (the int8 struct; act_min / act_max within the int16 range)
 * @param input1 int16
 * @param input2 int16
 * @param output int16 (may alias an input of the output's shape)
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_mul_s16(const fitml_mul_s8_params *p, const int16_t *input1,
                           const int16_t *input2, int16_t *output);

/**
 * @brief int16 SUB with broadcasting (as fitml_add_s16, the second operand subtracted).
 * @param p      parameters (lut unused, may be NULL)
 * @param input1 int16
 * @param input2 int16
 * @param output int16
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_sub_s16(const fitml_add_s8_params *p, const int16_t *input1,
                           const int16_t *input2, int16_t *output);

/**
 * @brief int16 MAX_POOL_2D on raw codes, then clamped.
 * @param p      parameters (clamp within the int16 range)
 * @param input  NHWC int16
 * @param output NHWC int16
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_maxpool_s16(const fitml_pool_s8_params *p, const int16_t *input,
                               int16_t *output);

/**
 * @brief int16 AVERAGE_POOL_2D on raw codes: int32 sum over valid taps divided by their count
 *        rounding half away from zero, then clamped.
 * @param p      parameters
 * @param input  NHWC int16
 * @param output NHWC int16
 * @return FITML_OK, or FITML_ERR_ARGUMENT (also when a window holds no tap)
 */
fitml_status fitml_avgpool_s16(const fitml_pool_s8_params *p, const int16_t *input,
                               int16_t *output);

/**
 * @brief int16 MEAN (TFLM QuantizedMeanOrSum<int16_t>), as fitml_mean_s8 on int16 codes.
 * @param p      parameters
 * @param input  int16
 * @param output int16, row-major over p->outer.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_mean_s16(const fitml_mean_s8_params *p, const int16_t *input,
                            int16_t *output);

/**
 * @brief int16 SUM (TFLM QuantizedMeanOrSum<int16_t> with compute_sum), as fitml_sum_s8 on
 *        int16 codes.
 * @param p      parameters
 * @param input  int16
 * @param output int16, row-major over p->outer.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_sum_s16(const fitml_mean_s8_params *p, const int16_t *input,
                           int16_t *output);

/**
 * @brief int8 -> int16 QUANTIZE: clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max).
 * @param p      parameters (act_min/act_max: the int16 range)
 * @param input  int8
 * @param output int16
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_s8_s16(const fitml_requantize_s8_params *p, const int8_t *input,
                                     int16_t *output);

/**
 * @brief int16 -> int8 QUANTIZE (same arithmetic, int8 clamp).
 * @param p      parameters
 * @param input  int16
 * @param output int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_s16_s8(const fitml_requantize_s8_params *p, const int16_t *input,
                                     int8_t *output);

/**
 * @brief int16 -> int16 QUANTIZE (same arithmetic, int16 clamp).
 * @param p      parameters
 * @param input  int16
 * @param output int16 (may alias the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_s16(const fitml_requantize_s8_params *p, const int16_t *input,
                                  int16_t *output);

/**
 * @brief float32 -> int16 QUANTIZE: clamp(roundf(v / scale) + zp, -32768, 32767), float32
 *        division, ties away from zero (without libm). NaN gives zp.
 * @param p      scale and zero point of the output
 * @param input  float
 * @param output int16
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_quantize_f32_s16(const fitml_affine_params *p, const float *input,
                                    int16_t *output);

/* ---- int16 activations and DEQUANTIZE (TFLM int16 overloads; toolchain/ops/int16_nonlinear.py) */

/** @brief int16 LOGISTIC / TANH: input rescale and TFLite's 256-entry sigmoid(i/24) table. */
typedef struct {
    int32_t size;
    int32_t input_multiplier;   /**< effective (the power-of-two case already as 3 << shift) */
    int32_t input_left_shift;   /**< right shift with rounding, in [0, 31] */
    const int16_t *table;       /**< [256] sigmoid(i/24) in 0.16 fixed point minus 32768 */
} fitml_logistic_s16_params;

/** @brief int16 SOFTMAX over the last axis (TFLM SoftmaxInt16). */
typedef struct {
    int32_t rows, depth;
    int32_t input_multiplier, input_left_shift;  /**< differences to [-65535, 0] ~ [-10, 0] */
    const int16_t *exp_lut;     /**< [513] exp on [-10, 0], Q0.15 */
    const int16_t *recip_lut;   /**< [513] 1 / (1 + x) on [0, 1], Q0.15 */
} fitml_softmax_s16_params;

/**
 * @brief int16 -> float32 DEQUANTIZE: scale * (q - zp) as one float32 multiply.
 * @param p      scale and zero point of the input
 * @param input  int16
 * @param output float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_dequantize_s16_f32(const fitml_affine_params *p, const int16_t *input,
                                      float *output);

/**
 * @brief int16 RELU6 (TFLM Relu6Quantized): clamp of raw codes to [act_min, act_max].
 * @param p      parameters
 * @param input  int16
 * @param output int16 (may alias the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_relu6_s16(const fitml_clamp_s8_params *p, const int16_t *input,
                             int16_t *output);

/**
 * @brief int16 LEAKY_RELU (TFLM QuantizeLeakyRelu<int16_t>): the int8 kernel's two
 *        requantizations (identity for q - zp_in >= 0, alpha below), clamped to int16.
 * @param p      parameters (the int8 struct)
 * @param input  int16
 * @param output int16 (may alias the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_leaky_relu_s16(const fitml_leaky_relu_s8_params *p, const int16_t *input,
                                  int16_t *output);

/**
 * @brief int16 LOGISTIC (TFLM reference_integer_ops::Logistic, int16): Q0.15 output.
 * @param p      parameters
 * @param input  int16, zero point 0
 * @param output int16, scale 2^-15 (may alias the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_logistic_s16(const fitml_logistic_s16_params *p, const int16_t *input,
                                int16_t *output);

/**
 * @brief int16 TANH (TFLM reference_integer_ops::Tanh, int16): 2 * sigmoid(2x) - 1, Q0.15.
 * @param p      parameters
 * @param input  int16, zero point 0
 * @param output int16, scale 2^-15 (may alias the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_tanh_s16(const fitml_logistic_s16_params *p, const int16_t *input,
                            int16_t *output);

/**
 * @brief int16 SOFTMAX (TFLM SoftmaxInt16): exp and reciprocal from interpolated LUTs.
 * @param p      parameters
 * @param input  [rows][depth] int16
 * @param output [rows][depth] int16, scale 1/32768, zero point 0 (must not alias the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_softmax_s16(const fitml_softmax_s16_params *p, const int16_t *input,
                               int16_t *output);

#endif /* FITML_INT16_H */
