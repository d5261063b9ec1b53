/**
 * @file fitml_transpose_conv.h
 * @brief TRANSPOSE_CONV (float32, int8, int16 x int8), NHWC, bit for bit as TFLite Micro's
 *        reference TransposeConv: a "scatter" in which every input pixel adds input * filter
 *        into the output window starting at (in_y * stride_h - pad_h, in_x * stride_w - pad_w);
 *        taps outside the output are dropped.
 *
 * The geometry is a fitml_conv_geom: `filter` is [C_out][KH][KW][C_in] (n = C_out), dilation
 * is 1, pad_h / pad_w are TFLM's padding of the conv from the output size back to the input.
 * Quantized kernels sum into a caller-owned scratch of one accumulator per output element
 * (int32 for int8, int64 for int16), then add the bias, requantize per channel and clamp.
 * The float32 kernel sums in the output itself, in TFLM's order.
 *
 * Parameter structs are mirrored by toolchain/backends/cstructs.py STRUCTS.
 */
#ifndef FITML_TRANSPOSE_CONV_H
#define FITML_TRANSPOSE_CONV_H

#include "fitml_types.h"

/** @brief TRANSPOSE_CONV float32. */
typedef struct {
    fitml_conv_geom geom;
    const float *filter;        /**< [C_out][KH][KW][C_in] */
    const float *bias;          /**< [C_out] or NULL */
    float act_min, act_max;     /**< fused activation clamp */
} fitml_transpose_conv_f32_params;

/** @brief TRANSPOSE_CONV int8 (per-channel int8 filter, raw int32 bias). */
typedef struct {
    fitml_conv_geom geom;
    const int8_t *filter;       /**< [C_out][KH][KW][C_in] */
    const int32_t *bias;        /**< [C_out] or NULL (the model's bias, not folded) */
    fitml_requant requant;
    int32_t input_zp, output_zp;
    int32_t act_min, act_max;
} fitml_transpose_conv_s8_params;

/** @brief TRANSPOSE_CONV int16 activations x int8 filter (zero points 0, int64 bias). */
typedef struct {
    fitml_conv_geom geom;
    const int8_t *filter;       /**< [C_out][KH][KW][C_in] */
    const int64_t *bias;        /**< [C_out] or NULL */
    fitml_requant requant;
    int32_t act_min, act_max;   /**< within [-32768, 32767] */
} fitml_transpose_conv_s16_params;

/**
 * @brief float32 TRANSPOSE_CONV: the output is zeroed, every product added in TFLM's order
 *        (input row, column, channel), then the bias and the clamp.
 * @param p      parameters
 * @param input  NHWC float32
 * @param output NHWC float32 (must not overlap the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_transpose_conv_f32(const fitml_transpose_conv_f32_params *p,
                                      const float *input, float *output);

/**
 * @brief Scratch bytes fitml_transpose_conv_s8() needs: one int32 per output element.
 * @param p parameters
 * @return bytes (0 when p is NULL)
 */
size_t fitml_transpose_conv_s8_scratch_size(const fitml_transpose_conv_s8_params *p);

/**
 * @brief int8 TRANSPOSE_CONV: (input - input_zp) * filter summed in int32 (wrapping), + bias,
 *        MultiplyByQuantizedMultiplier per channel, + output_zp, clamp.
 * @param p       parameters
 * @param input   NHWC int8
 * @param output  NHWC int8
 * @param scratch fitml_transpose_conv_s8_scratch_size(p) bytes, 4-byte aligned
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_transpose_conv_s8(const fitml_transpose_conv_s8_params *p,
                                     const int8_t *input, int8_t *output, void *scratch);

/**
 * @brief Scratch bytes fitml_transpose_conv_s16() needs: one int64 per output element.
 * @param p parameters
 * @return bytes (0 when p is NULL)
 */
size_t fitml_transpose_conv_s16_scratch_size(const fitml_transpose_conv_s16_params *p);

/**
 * @brief int16 x int8 TRANSPOSE_CONV: exact int64 sums, + bias, the int64
 *        MultiplyByQuantizedMultiplier (fitml_mbqm64), clamp.
 * @param p       parameters
 * @param input   NHWC int16
 * @param output  NHWC int16
 * @param scratch fitml_transpose_conv_s16_scratch_size(p) bytes, 8-byte aligned
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_transpose_conv_s16(const fitml_transpose_conv_s16_params *p,
                                      const int16_t *input, int16_t *output, void *scratch);

#endif /* FITML_TRANSPOSE_CONV_H */
