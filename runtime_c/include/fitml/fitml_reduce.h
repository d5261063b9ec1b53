/**
 * @file fitml_reduce.h
 * @brief MEAN, SUM, REDUCE_MAX kernels over any set of axes, described as two walks; ARG_MAX,
 *        ARG_MIN; CUMSUM.
 */
#ifndef FITML_REDUCE_H
#define FITML_REDUCE_H

#include "fitml_types.h"

/**
 * @brief int8 MEAN as TFLM QuantizedMeanOrSum: int32 raw sum, minus zp_in * count, requantized
 *        with a multiplier that already holds 1/count.
 * @param p      parameters
 * @param input  int8
 * @param output int8, row-major over p->outer.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_mean_s8(const fitml_mean_s8_params *p, const int8_t *input, int8_t *output);

/**
 * @brief float32 MEAN: float sum in walk order divided by count.
 * @param p      parameters
 * @param input  float
 * @param output float
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_mean_f32(const fitml_mean_f32_params *p, const float *input, float *output);

/**
 * @brief int8 SUM as TFLM QuantizedMeanOrSum with compute_sum: int32 raw sum, minus
 *        zp_in * count, requantized with s_in / s_out (no 1/count), clamped.
 * @param p      parameters
 * @param input  int8
 * @param output int8, row-major over p->outer.dims
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_sum_s8(const fitml_mean_s8_params *p, const int8_t *input, int8_t *output);

/**
 * @brief float32 SUM: float sum in input order (TFLM's ReduceGeneric order).
 * @param p      parameters
 * @param input  float
 * @param output float
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_sum_f32(const fitml_reduce_params *p, const float *input, float *output);

/**
 * @brief int8 REDUCE_MAX: the greatest raw value (input and output quantization are equal).
 * @param p      parameters
 * @param input  int8
 * @param output int8
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_reduce_max_s8(const fitml_reduce_params *p, const int8_t *input,
                                 int8_t *output);

/**
 * @brief float32 REDUCE_MAX: the greatest value from -FLT_MAX (a NaN never compares greater).
 * @param p      parameters
 * @param input  float
 * @param output float
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_UNSUPPORTED
 */
fitml_status fitml_reduce_max_f32(const fitml_reduce_params *p, const float *input,
                                  float *output);

/**
 * @brief int8 ARG_MAX: index of the first greatest raw value (TFLM's strict greater-than).
 * @param p      parameters
 * @param input  int8, [outer, axis_size, inner]
 * @param output int32, [outer, inner]
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_arg_max_s8(const fitml_arg_max_params *p, const int8_t *input,
                              int32_t *output);

/**
 * @brief float32 ARG_MAX: index of the first greatest value (NaN never compares greater).
 * @param p      parameters
 * @param input  float, [outer, axis_size, inner]
 * @param output int32, [outer, inner]
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_arg_max_f32(const fitml_arg_max_params *p, const float *input,
                               int32_t *output);

/**
 * @brief int8 ARG_MIN: index of the first smallest raw value (TFLM's strict less-than).
 * @param p      parameters
 * @param input  int8, [outer, axis_size, inner]
 * @param output int32, [outer, inner]
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_arg_min_s8(const fitml_arg_max_params *p, const int8_t *input,
                              int32_t *output);

/**
 * @brief float32 ARG_MIN: index of the first smallest value (NaN never compares less).
 * @param p      parameters
 * @param input  float, [outer, axis_size, inner]
 * @param output int32, [outer, inner]
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_arg_min_f32(const fitml_arg_max_params *p, const float *input,
                               int32_t *output);

/**
 * @brief float32 CUMSUM: running sums from 0.0 in TFLM's order (reverse: from the end).
 * @param p      [outer, depth, inner] and the exclusive / reverse flags
 * @param input  float
 * @param output float, same shape (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_cumsum_f32(const fitml_cumsum_params *p, const float *input, float *output);

/**
 * @brief int32 CUMSUM (LiteRT; TFLM has none): running sums, wrapping on overflow.
 * @param p      [outer, depth, inner] and the exclusive / reverse flags
 * @param input  int32
 * @param output int32, same shape (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_cumsum_s32(const fitml_cumsum_params *p, const int32_t *input,
                              int32_t *output);

/**
 * @brief int8 CUMSUM as TFLM: (q - zp_in) << 20 rescaled by input_multiplier, summed in a
 *        wrapping int32 that starts at the rescaled -zp_in (TFLM's start), each sum rescaled
 *        to the output.
 * @param p      parameters
 * @param input  int8
 * @param output int8, same shape (may be the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_cumsum_s8(const fitml_cumsum_s8_params *p, const int8_t *input,
                             int8_t *output);

#endif /* FITML_REDUCE_H */
