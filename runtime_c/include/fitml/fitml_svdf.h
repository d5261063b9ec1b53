/**
 * @file fitml_svdf.h
 * @brief SVDF (TFLite builtin), float32 and int8 (int16 time weights and state), as TFLite
 *        Micro computes it (svdf_common.cc).
 *
 * Each call moves the activation state one frame on: the state, [batches][num_filters]
 * [memory_size], shifts left by one frame, the feature projection of the input (weights_feature
 * [num_filters][input_size]) fills the last frame, each filter's row is dotted with its
 * weights_time row [num_filters][memory_size], and each of the num_filters / rank units sums
 * its rank filters, plus bias. The state is the caller's and persists between calls (the
 * generated model keeps it in a static array, zeroed by <prefix>_reset_state()).
 *
 * Parameter structs are mirrored by toolchain/backends/cruntime.py STRUCTS.
 */
#ifndef FITML_SVDF_H
#define FITML_SVDF_H

#include "fitml_types.h"

/** @brief float32 SVDF: sums in TFLM's order, then the fused clamp. */
typedef struct {
    int32_t batches, input_size, num_filters, memory_size, rank;
    const float *weights_feature;       /**< [num_filters][input_size] */
    const float *weights_time;          /**< [num_filters][memory_size] */
    const float *bias;                  /**< [num_filters / rank], or NULL */
    float *state;                       /**< [batches][num_filters][memory_size], persistent */
    float act_min, act_max;             /**< fused activation as a clamp */
} fitml_svdf_f32_params;

/**
 * @brief int8 SVDF (TFLM EvalIntegerSvdfReference<int16_t>): int8 input and weights_feature,
 *        int16 weights_time and state, int32 bias, int8 output, no fused activation.
 *
 * state[last] = clamp16(MBQM(sum (x - input_zp) * wf, feature_*) + state_zp);
 * out = clamp8(MBQM(bias + sum_rank sum_memory (state - state_zp) * wt, output_*) + output_zp).
 */
typedef struct {
    int32_t batches, input_size, num_filters, memory_size, rank;
    const int8_t *weights_feature;      /**< [num_filters][input_size] */
    const int16_t *weights_time;        /**< [num_filters][memory_size] */
    const int32_t *bias;                /**< [num_filters / rank], or NULL */
    int16_t *state;                     /**< [batches][num_filters][memory_size], persistent */
    int32_t input_zp, state_zp, output_zp;
    int32_t feature_multiplier, feature_shift;  /**< s_in * s_feature / s_state */
    int32_t output_multiplier, output_shift;    /**< s_state * s_time / s_out */
} fitml_svdf_s8_params;

/**
 * @brief float32 SVDF step.
 * @param p       parameters (p->state is read and updated)
 * @param input   [batches][input_size]
 * @param output  [batches][num_filters / rank]
 * @return FITML_OK, or FITML_ERR_ARGUMENT for NULL pointers or inconsistent sizes
 */
fitml_status fitml_svdf_f32(const fitml_svdf_f32_params *p, const float *input, float *output);

/**
 * @brief int8 SVDF step.
 * @param p       parameters (p->state is read and updated)
 * @param input   [batches][input_size] int8
 * @param output  [batches][num_filters / rank] int8
 * @return FITML_OK, or FITML_ERR_ARGUMENT for NULL pointers or inconsistent sizes
 */
fitml_status fitml_svdf_s8(const fitml_svdf_s8_params *p, const int8_t *input, int8_t *output);

#endif /* FITML_SVDF_H */
