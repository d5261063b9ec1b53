/**
 * @file fitml_conv.h
 * @brief CONV_2D and DEPTHWISE_CONV_2D kernels (int8 and float32), NHWC.
 */
#ifndef FITML_CONV_H
#define FITML_CONV_H

#include "fitml_types.h"

/**
 * @brief Scratch bytes fitml_conv_s8() needs: one im2col patch (KH*KW*C_in/groups int8), or 0
 *        for a 1x1 unpadded convolution, which reads the input in place.
 * @param p parameters
 * @return bytes (0 when p is NULL)
 */
size_t fitml_conv_s8_scratch_size(const fitml_conv_s8_params *p);

/**
 * @brief int8 CONV_2D as TFLM's reference ConvPerChannel, bit for bit.
 *
 * Per output pixel and group, the receptive field is gathered into scratch (padded taps hold
 * input_zp) and every output channel is one contiguous int8 dot product plus the folded bias.
 * @param p       parameters (filter, folded bias, per-channel multipliers)
 * @param input   NHWC int8 input
 * @param output  NHWC int8 output
 * @param scratch fitml_conv_s8_scratch_size(p) bytes (may be NULL when that is 0)
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_SCRATCH
 */
fitml_status fitml_conv_s8(const fitml_conv_s8_params *p, const int8_t *input, int8_t *output,
                           void *scratch);

/**
 * @brief Scratch bytes fitml_depthwise_conv_s8() needs: one int32 accumulator per output
 *        channel.
 * @param p parameters
 * @return bytes (0 when p is NULL)
 */
size_t fitml_depthwise_conv_s8_scratch_size(const fitml_depthwise_conv_s8_params *p);

/**
 * @brief int8 DEPTHWISE_CONV_2D as TFLM's reference DepthwiseConvPerChannel, bit for bit.
 * @param p       parameters
 * @param input   NHWC int8 input
 * @param output  NHWC int8 output
 * @param scratch fitml_depthwise_conv_s8_scratch_size(p) bytes, int32-aligned
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_SCRATCH
 */
fitml_status fitml_depthwise_conv_s8(const fitml_depthwise_conv_s8_params *p,
                                     const int8_t *input, int8_t *output, void *scratch);

/**
 * @brief fitml_conv_s8() without scratch: reads the input directly, tap by tap (bit-exact with
 *        it; more instructions). The planner picks it where the scratch would raise the peak.
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_conv_s8_noscratch(const fitml_conv_s8_params *p, const int8_t *input,
                                     int8_t *output);

/**
 * @brief fitml_depthwise_conv_s8() without scratch: one register accumulator per output value
 *        (bit-exact with it; more instructions).
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_depthwise_conv_s8_noscratch(const fitml_depthwise_conv_s8_params *p,
                                               const int8_t *input, int8_t *output);

/** @brief int8 CONV_2D fused with the elementwise int8 ADD that consumes its output. */
typedef struct {
    fitml_conv_s8_params conv;
    fitml_add_s8_params add;    /**< the ADD's params (its broadcast shape is unused) */
    int32_t residual_first;     /**< 1: ADD(residual, conv); 0: ADD(conv, residual) */
} fitml_conv_add_s8_params;

/**
 * @brief output[i] = ADD(residual[i], conv(input)[i]) without scratch, bit-exact with
 *        fitml_conv_s8() then fitml_add_s8(); output may equal residual (in place).
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_conv_add_s8(const fitml_conv_add_s8_params *p, const int8_t *input,
                               const int8_t *residual, int8_t *output);

/**
 * @brief float32 CONV_2D, summing taps in TFLite's reference order (ky, kx, ic), then bias.
 * @param p      parameters
 * @param input  NHWC float input
 * @param output NHWC float output
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_conv_f32(const fitml_conv_f32_params *p, const float *input, float *output);

/**
 * @brief float32 DEPTHWISE_CONV_2D in TFLite's reference order.
 * @param p      parameters
 * @param input  NHWC float input
 * @param output NHWC float output
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_depthwise_conv_f32(const fitml_depthwise_conv_f32_params *p,
                                      const float *input, float *output);

#endif /* FITML_CONV_H */
