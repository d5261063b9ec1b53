/**
 * @file fitml_hybrid.h
 * @brief Hybrid (dynamic-range) CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: float32
 *        activations, int8 weights, bit for bit as LiteRT's hybrid kernels.
 *
 * Each batch (FC: each row) of the float input is quantized on the fly into caller-owned
 * scratch, as LiteRT does: symmetric (SymmetricQuantizeFloats, zero point 0) or asymmetric
 * (AsymmetricQuantizeFloats, whose zero point is derived in double once per batch), both with
 * the NEON rounding (the first size & ~7 values round as trunc(y +- 0.5f), the rest as
 * roundf). int8 x int8 products accumulate in int32 (wrapping); the accumulator is rescaled
 * to float32 in LiteRT's operation order, + bias, then clamped. The sources forbid FMA
 * contraction, which would round differently.
 *
 * Parameter structs are mirrored by toolchain/backends/cruntime.py STRUCTS.
 */
#ifndef FITML_HYBRID_H
#define FITML_HYBRID_H

#include "fitml_types.h"

/** @brief CONV_2D hybrid (groups = input.c / filter.c). */
typedef struct {
    fitml_conv_geom geom;
    const int8_t *filter;       /**< [C_out][KH][KW][C_in/groups], int8 (or int4 values) */
    const float *scales;        /**< filter scales: [C_out] if per_channel, else [1] */
    const float *bias;          /**< [C_out] or NULL */
    int32_t per_channel;        /**< nonzero: EvalHybridPerChannel (asymmetric input,
                                     acc * scale[c] * s_in); 0: EvalHybrid (symmetric input,
                                     acc * (s_in * scale[0])) */
    float act_min, act_max;
} fitml_conv_hybrid_f32_params;

/** @brief DEPTHWISE_CONV_2D hybrid: asymmetric input, acc * (scale[c] * s_in). */
typedef struct {
    fitml_conv_geom geom;
    int32_t depth_multiplier;
    const int8_t *filter;       /**< [KH][KW][C_out] */
    const float *scales;        /**< [C_out] */
    const float *bias;          /**< [C_out] or NULL */
    float act_min, act_max;
} fitml_depthwise_conv_hybrid_f32_params;

/** @brief FULLY_CONNECTED hybrid (EvalHybridDense): bias + acc * (scale * s_row). */
typedef struct {
    int32_t batches, input_size, output_size;
    const int8_t *filter;       /**< [output_size][input_size] */
    const float *scales;        /**< [output_size] if per_channel, else [1] */
    const float *bias;          /**< [output_size] or NULL */
    int32_t per_channel;        /**< nonzero: index scales by output */
    int32_t asymmetric;         /**< nonzero: asymmetric_quantize_inputs */
    float act_min, act_max;
} fitml_fully_connected_hybrid_f32_params;

/**
 * @brief Scratch bytes fitml_conv_hybrid_f32() needs: one batch of quantized input
 *        (H*W*C_in int8).
 * @param p parameters
 * @return bytes (0 when p is NULL)
 */
size_t fitml_conv_hybrid_f32_scratch_size(const fitml_conv_hybrid_f32_params *p);

/**
 * @brief Hybrid CONV_2D as LiteRT's conv.cc EvalHybrid / EvalHybridPerChannel, bit for bit.
 * @param p       parameters
 * @param input   NHWC float input
 * @param output  NHWC float output
 * @param scratch fitml_conv_hybrid_f32_scratch_size(p) bytes
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_SCRATCH
 */
fitml_status fitml_conv_hybrid_f32(const fitml_conv_hybrid_f32_params *p, const float *input,
                                   float *output, void *scratch);

/**
 * @brief Scratch bytes fitml_depthwise_conv_hybrid_f32() needs: one batch of quantized input.
 * @param p parameters
 * @return bytes (0 when p is NULL)
 */
size_t fitml_depthwise_conv_hybrid_f32_scratch_size(
    const fitml_depthwise_conv_hybrid_f32_params *p);

/**
 * @brief Hybrid DEPTHWISE_CONV_2D as LiteRT's DepthwiseConvHybridPerChannel, bit for bit.
 * @param p       parameters
 * @param input   NHWC float input
 * @param output  NHWC float output
 * @param scratch fitml_depthwise_conv_hybrid_f32_scratch_size(p) bytes
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_SCRATCH
 */
fitml_status fitml_depthwise_conv_hybrid_f32(const fitml_depthwise_conv_hybrid_f32_params *p,
                                             const float *input, float *output, void *scratch);

/**
 * @brief Scratch bytes fitml_fully_connected_hybrid_f32() needs: one quantized input row.
 * @param p parameters
 * @return bytes (0 when p is NULL)
 */
size_t fitml_fully_connected_hybrid_f32_scratch_size(
    const fitml_fully_connected_hybrid_f32_params *p);

/**
 * @brief Hybrid FULLY_CONNECTED as LiteRT's EvalHybridDense, bit for bit.
 * @param p       parameters
 * @param input   [batches][input_size] float
 * @param output  [batches][output_size] float
 * @param scratch fitml_fully_connected_hybrid_f32_scratch_size(p) bytes
 * @return FITML_OK, FITML_ERR_ARGUMENT or FITML_ERR_SCRATCH
 */
fitml_status fitml_fully_connected_hybrid_f32(const fitml_fully_connected_hybrid_f32_params *p,
                                              const float *input, float *output,
                                              void *scratch);

#endif /* FITML_HYBRID_H */
