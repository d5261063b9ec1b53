/**
 * @file fitml_int4.h
 * @brief CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int8 activations and packed int4
 *        weights, bit for bit as TFLite Micro (which unpacks int4 filters to int8 first).
 *
 * The filter is the TFLite int4 buffer: the whole tensor flattened in its TFLite layout, two
 * values per byte, low nibble first, each sign-extended from 4 bits. The kernels unpack on the
 * fly, so the weights take half the flash of int8 ones. The bias is folded as for int8:
 * bias[c] - input_zp * sum(filter[c]), wrapped to int32.
 *
 * Parameter structs are mirrored by toolchain/backends/cruntime.py STRUCTS.
 */
#ifndef FITML_INT4_H
#define FITML_INT4_H

#include "fitml_types.h"

/** @brief CONV_2D int8 x int4 (groups = input.c / filter.c). */
typedef struct {
    fitml_conv_geom geom;
    const uint8_t *filter;      /**< packed int4 [C_out][KH][KW][C_in/groups] */
    const int32_t *bias;        /**< folded bias [C_out], never NULL */
    fitml_requant requant;
    int32_t input_zp;           /**< value of padded taps */
    int32_t output_zp;
    int32_t act_min, act_max;
} fitml_conv_s8s4_params;

/** @brief DEPTHWISE_CONV_2D int8 x int4: output channel ic*dm+m reads input channel ic. */
typedef struct {
    fitml_conv_geom geom;
    int32_t depth_multiplier;
    const uint8_t *filter;      /**< packed int4 [KH][KW][C_out] */
    const int32_t *bias;        /**< folded bias [C_out], never NULL */
    fitml_requant requant;
    int32_t input_zp;
    int32_t output_zp;
    int32_t act_min, act_max;
} fitml_depthwise_conv_s8s4_params;

/** @brief FULLY_CONNECTED int8 x int4 (TFLM: per-tensor int4 filters). */
typedef struct {
    int32_t batches, input_size, output_size;
    const uint8_t *filter;      /**< packed int4 [output_size][input_size] */
    const int32_t *bias;        /**< folded bias [output_size], never NULL */
    fitml_requant requant;
    int32_t output_zp;
    int32_t act_min, act_max;
} fitml_fully_connected_s8s4_params;

/**
 * @brief Scratch bytes fitml_conv_s8s4() needs: one im2col patch (KH*KW*C_in/groups int8), or
 *        0 for a 1x1 unpadded convolution, which reads the input in place.
 * @param p parameters
 * @return bytes (0 when p is NULL)
 */
size_t fitml_conv_s8s4_scratch_size(const fitml_conv_s8s4_params *p);

/**
 * @brief int8 CONV_2D with packed int4 filter, as TFLM's ConvPerChannel on the unpacked filter.
 * @param p       parameters
 * @param input   NHWC int8 input
 * @param output  NHWC int8 output
 * @param scratch fitml_conv_s8s4_scratch_size(p) bytes (may be NULL when that is 0)
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_SCRATCH
 */
fitml_status fitml_conv_s8s4(const fitml_conv_s8s4_params *p, const int8_t *input,
                             int8_t *output, void *scratch);

/**
 * @brief Scratch bytes fitml_depthwise_conv_s8s4() needs: one int32 accumulator per output
 *        channel.
 * @param p parameters
 * @return bytes (0 when p is NULL)
 */
size_t fitml_depthwise_conv_s8s4_scratch_size(const fitml_depthwise_conv_s8s4_params *p);

/**
 * @brief int8 DEPTHWISE_CONV_2D with packed int4 filter (TFLM DepthwiseConvPerChannel).
 * @param p       parameters
 * @param input   NHWC int8 input
 * @param output  NHWC int8 output
 * @param scratch fitml_depthwise_conv_s8s4_scratch_size(p) bytes, int32-aligned
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_SCRATCH
 */
fitml_status fitml_depthwise_conv_s8s4(const fitml_depthwise_conv_s8s4_params *p,
                                       const int8_t *input, int8_t *output, void *scratch);

/**
 * @brief int8 FULLY_CONNECTED with packed int4 filter (TFLM per-tensor kernel).
 * @param p      parameters
 * @param input  [batches][input_size] int8
 * @param output [batches][output_size] int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_fully_connected_s8s4(const fitml_fully_connected_s8s4_params *p,
                                        const int8_t *input, int8_t *output);

#endif /* FITML_INT4_H */
