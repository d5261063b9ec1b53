/**
 * @file fitml_math.h
 * @brief Element-wise math kernels: MAXIMUM, MINIMUM, ABS, NEG, SQUARED_DIFFERENCE;
 *        LOG_SOFTMAX; DIV, FLOOR_MOD, FLOOR_DIV; ADD_N; EXP, SQRT, RSQRT; FLOOR, CEIL,
 *        ROUND, LOG, SIN, COS, SQUARE, ELU; L2_NORMALIZATION.
 */
#ifndef FITML_MATH_H
#define FITML_MATH_H

#include "fitml_types.h"

/**
 * @brief MAXIMUM f32: the larger stored value per element, broadcast (TFLM compares codes: inputs
 *        and output share one scale and zero point).
 * @param p      broadcast walk
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_maximum_f32(const fitml_broadcast_params *p, const float *input1,
                               const float *input2, float *output);

/**
 * @brief MAXIMUM s8: the larger stored value per element, broadcast (TFLM compares codes: inputs
 *        and output share one scale and zero point).
 * @param p      broadcast walk
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_maximum_s8(const fitml_broadcast_params *p, const int8_t *input1,
                              const int8_t *input2, int8_t *output);

/**
 * @brief MAXIMUM s16: the larger stored value per element, broadcast (TFLM compares codes: inputs
 *        and output share one scale and zero point).
 * @param p      broadcast walk
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_maximum_s16(const fitml_broadcast_params *p, const int16_t *input1,
                               const int16_t *input2, int16_t *output);

/**
 * @brief MAXIMUM s32: the larger stored value per element, broadcast (TFLM compares codes: inputs
 *        and output share one scale and zero point).
 * @param p      broadcast walk
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_maximum_s32(const fitml_broadcast_params *p, const int32_t *input1,
                               const int32_t *input2, int32_t *output);

/**
 * @brief MINIMUM f32: the smaller stored value per element, broadcast (TFLM compares codes: inputs
 *        and output share one scale and zero point).
 * @param p      broadcast walk
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_minimum_f32(const fitml_broadcast_params *p, const float *input1,
                               const float *input2, float *output);

/**
 * @brief MINIMUM s8: the smaller stored value per element, broadcast (TFLM compares codes: inputs
 *        and output share one scale and zero point).
 * @param p      broadcast walk
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_minimum_s8(const fitml_broadcast_params *p, const int8_t *input1,
                              const int8_t *input2, int8_t *output);

/**
 * @brief MINIMUM s16: the smaller stored value per element, broadcast (TFLM compares codes: inputs
 *        and output share one scale and zero point).
 * @param p      broadcast walk
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_minimum_s16(const fitml_broadcast_params *p, const int16_t *input1,
                               const int16_t *input2, int16_t *output);

/**
 * @brief MINIMUM s32: the smaller stored value per element, broadcast (TFLM compares codes: inputs
 *        and output share one scale and zero point).
 * @param p      broadcast walk
 * @param input1 operand 1
 * @param input2 operand 2
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_minimum_s32(const fitml_broadcast_params *p, const int32_t *input1,
                               const int32_t *input2, int32_t *output);

/**
 * @brief float32 ABS: fabsf per element.
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_abs_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief int8 ABS (TFLM AbsEvalQuantized): clamp(MBQM(|q - input_zp|, multiplier, shift) +
 *        output_zp, act_min, act_max).
 * @param p      element count and requantization
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_abs_s8(const fitml_requantize_s8_params *p, const int8_t *input, int8_t *output);

/**
 * @brief int16 ABS: the int8 formula on int16 codes (zero points 0).
 * @param p      element count and requantization
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_abs_s16(const fitml_requantize_s8_params *p, const int16_t *input,
                           int16_t *output);

/**
 * @brief float32 NEG: -x per element.
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_neg_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 SQUARED_DIFFERENCE: (a - b) * (a - b), broadcast (the clamp fields are +-FLT_MAX).
 * @param p      parameters
 * @param input1 minuend
 * @param input2 subtrahend
 * @param output result
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_squared_difference_f32(const fitml_binary_f32_params *p, const float *input1,
                                          const float *input2, float *output);

/**
 * @brief int8 SQUARED_DIFFERENCE (TFLM): ADD's input rescaling with left shift 7, the difference
 *        squared, MBQM by the output multiplier, + output_zp, clamped.
 * @param p      parameters
 * @param input1 minuend
 * @param input2 subtrahend
 * @param output result
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_squared_difference_s8(const fitml_add_s8_params *p, const int8_t *input1,
                                         const int8_t *input2, int8_t *output);

/**
 * @brief int16 SQUARED_DIFFERENCE: the int8 formula with left shift 0 (zero points 0).
 * @param p      parameters
 * @param input1 minuend
 * @param input2 subtrahend
 * @param output result
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_squared_difference_s16(const fitml_add_s8_params *p, const int16_t *input1,
                                          const int16_t *input2, int16_t *output);

/**
 * @brief float32 LOG_SOFTMAX per row: x - max - logf(sum(expf(x - max))) (TFLM reference).
 * @param p      rows and depth (beta is ignored: LOG_SOFTMAX has none)
 * @param input  rows x depth values
 * @param output rows x depth results
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_log_softmax_f32(const fitml_softmax_f32_params *p, const float *input,
                                   float *output);

/**
 * @brief int8 LOG_SOFTMAX per row (TFLM LogSoftmaxQuantized): gemmlowp exp of the Q5.26
 *        differences to the row max, Q12.19 sum, fixed-point ln; -128 below the cut-off.
 * @param p      parameters from the Python lowering
 * @param input  rows x depth codes
 * @param output rows x depth codes (scale 16/256, zero point 127)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_log_softmax_s8(const fitml_log_softmax_s8_params *p, const int8_t *input,
                                  int8_t *output);

/**
 * @brief float32 DIV with broadcasting, then the fused clamp.
 * @param p      broadcast walk and clamp
 * @param input1 dividend
 * @param input2 divisor
 * @param output quotient
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_div_f32(const fitml_binary_f32_params *p, const float *input1,
                           const float *input2, float *output);

/**
 * @brief int8 DIV (TFLM DivElementwise): fixed-point reciprocal of the divisor, the dividend
 *        shifted by its leading sign bits, requantized with MUL's parameters.
 * @param p      broadcast walk, zero points, output multiplier (s1 / (s2 * s_out)), clamp
 * @param input1 dividend codes
 * @param input2 divisor codes
 * @param output quotient codes
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_div_s8(const fitml_mul_s8_params *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output);

/**
 * @brief float32 EXP: expf(x) per element.
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_exp_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief FLOOR_MOD f32: x - floor(x / y) * y, with the divisor's sign (TFLM FloorMod), broadcast;
 *        exact (fmodf); y == 0 gives NaN.
 * @param p      broadcast walk
 * @param input1 dividends
 * @param input2 divisors
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_floor_mod_f32(const fitml_broadcast_params *p, const float *input1,
                                 const float *input2, float *output);

/**
 * @brief FLOOR_MOD s32: x - floor(x / y) * y, with the divisor's sign (TFLM FloorMod), broadcast;
 *        y == 0 and y == -1 give 0; TFLM runs float32 only.
 * @param p      broadcast walk
 * @param input1 dividends
 * @param input2 divisors
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_floor_mod_s32(const fitml_broadcast_params *p, const int32_t *input1,
                                 const int32_t *input2, int32_t *output);

/**
 * @brief FLOOR_DIV f32: floor(double(x) / double(y)) rounded to float (TFLite FloorDiv),
 *        broadcast; y == 0 gives +-inf or NaN (TFLM refuses it at run time).
 * @param p      broadcast walk
 * @param input1 dividends
 * @param input2 divisors
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_floor_div_f32(const fitml_broadcast_params *p, const float *input1,
                                 const float *input2, float *output);

/**
 * @brief FLOOR_DIV s32: integer division rounded toward -inf (LiteRT FloorDiv), broadcast;
 *        y == 0 gives 0, INT32_MIN / -1 gives INT32_MIN; TFLM runs float32 only.
 * @param p      broadcast walk
 * @param input1 dividends
 * @param input2 divisors
 * @param output result, row-major over p->bc.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED (rank)
 */
fitml_status fitml_floor_div_s32(const fitml_broadcast_params *p, const int32_t *input1,
                                 const int32_t *input2, int32_t *output);

/**
 * @brief ADD_N f32: output[i] = 0 + input_0[i] + ... + input_{n-1}[i], in that order (TFLM).
 * @param p      element count and number of inputs
 * @param inputs num_inputs pointers to float arrays of p->size elements
 * @param output p->size floats
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_add_n_f32(const fitml_add_n_params *p, const void *const *inputs,
                             float *output);

/**
 * @brief ADD_N s32: the wrapping int32 sum of the inputs (LiteRT; TFLM has no int32 ADD_N).
 * @param p      element count and number of inputs
 * @param inputs num_inputs pointers to int32 arrays of p->size elements
 * @param output p->size int32 values
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_add_n_s32(const fitml_add_n_params *p, const void *const *inputs,
                             int32_t *output);

/**
 * @brief ADD_N s8 (TFLM reference_ops::AddN): each (v - zp) << 20 scaled by the input
 *        multiplier, summed from the scaled -zp (as TFLM), requantized to the output, clamped.
 * @param p      sizes, zero points and the two multipliers (shifts <= 0)
 * @param inputs num_inputs pointers to int8 arrays of p->size elements
 * @param output p->size int8 values
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_add_n_s8(const fitml_add_n_s8_params *p, const void *const *inputs,
                            int8_t *output);

/**
 * @brief float32 ELU (alpha 1, TFLM elu.cc): x < 0 ? expm1f(x) : x per element; int8 ELU is
 *        a 256-entry table (fitml_lut_s8).
 * @param p      element count
 * @param input  input values
 * @param output output values (may alias input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_elu_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 L2_NORMALIZATION (TFLM l2norm.cc): each row divided by max(sqrtf(sum of its
 *        squares, in order), 1e-6).
 * @param p      rows, row length
 * @param input  p->outer * p->depth values
 * @param output as input
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_l2_normalization_f32(const fitml_l2_normalization_params *p,
                                        const float *input, float *output);

/**
 * @brief int8 L2_NORMALIZATION (TFLM reference_integer_ops::L2Normalization): each q - zp
 *        times GetInvSqrtQuantizedMultiplierExp(sum of (q - zp)^2), output scale 1/128, zp 0.
 * @param p      rows, row length, input zero point
 * @param input  p->outer * p->depth codes
 * @param output as input
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_l2_normalization_s8(const fitml_l2_normalization_params *p,
                                       const int8_t *input, int8_t *output);

/**
 * @brief float32 FLOOR: floorf(x) per element (TFLM floor.cc).
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_floor_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 CEIL: ceilf(x) per element (TFLM ceil.cc).
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_ceil_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 ROUND: half to even per element as TFLM's RoundToNearest (-0.3 gives +0.0).
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_round_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 LOG: logf(x) per element (libm; may differ from another libm by an ulp).
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_log_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 SIN: sinf(x) per element (libm; may differ from another libm by an ulp).
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_sin_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 COS: cosf(x) per element (libm; may differ from another libm by an ulp).
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_cos_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 SQUARE: x * x per element in float.
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_square_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 SQRT: sqrtf(x) per element.
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_sqrt_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief float32 RSQRT: 1.0f / sqrtf(x) per element.
 * @param p      element count
 * @param input  input
 * @param output output (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_rsqrt_f32(const fitml_size_params *p, const float *input, float *output);

/**
 * @brief An int8 -> int8 op of the input code alone as a 256-entry table lookup: LOGISTIC,
 *        TANH, RSQRT, HARD_SWISH, LEAKY_RELU int8 (the table is the op's TFLM arithmetic on
 *        every code, computed at compile time; toolchain/ops/lut_lowering.py).
 * @param p      element count and the table (output for input code q at q + 128)
 * @param input  input codes
 * @param output output codes (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_lut_s8(const fitml_lut_s8_params *p, const int8_t *input, int8_t *output);

#endif /* FITML_MATH_H */
