/**
 * @file fitml_quantize.h
 * @brief QUANTIZE (float32 -> int8; integer requantizations between int8, uint8, int32 and
 *        int16) and DEQUANTIZE (int8 -> float32). The int16 <-> int8 / int16 ones are in
 *        fitml_int16.h.
 */
#ifndef FITML_QUANTIZE_H
#define FITML_QUANTIZE_H

#include "fitml_types.h"

/**
 * @brief q = clamp(roundf(v / scale) + zp, -128, 127): float32 division, ties away from zero
 *        (computed without libm). NaN gives zp.
 * @param p      scale and zero point of the output
 * @param input  float
 * @param output int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_quantize_f32_s8(const fitml_affine_params *p, const float *input,
                                   int8_t *output);

/**
 * @brief int8 -> int8: clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max).
 * @param p      parameters
 * @param input  int8
 * @param output int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_s8(const fitml_requantize_s8_params *p, const int8_t *input,
                                 int8_t *output);

/**
 * @brief int32 -> int8: clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max) (TFLM
 *        Requantize).
 * @param p      parameters
 * @param input  int32
 * @param output int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_s32_s8(const fitml_requantize_s8_params *p, const int32_t *input,
                                     int8_t *output);

/**
 * @brief int32 -> int16: clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max) (TFLM
 *        Requantize).
 * @param p      parameters
 * @param input  int32
 * @param output int16
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_s32_s16(const fitml_requantize_s8_params *p, const int32_t *input,
                                      int16_t *output);

/**
 * @brief int8 -> int32: clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max) (TFLM
 *        Requantize).
 * @param p      parameters
 * @param input  int8
 * @param output int32
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_s8_s32(const fitml_requantize_s8_params *p, const int8_t *input,
                                     int32_t *output);

/**
 * @brief int16 -> int32: clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max) (TFLM
 *        Requantize).
 * @param p      parameters
 * @param input  int16
 * @param output int32
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_s16_s32(const fitml_requantize_s8_params *p, const int16_t *input,
                                      int32_t *output);

/**
 * @brief int8 -> uint8: clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max) (TFLM
 *        Requantize).
 * @param p      parameters
 * @param input  int8
 * @param output uint8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_s8_u8(const fitml_requantize_s8_params *p, const int8_t *input,
                                    uint8_t *output);

/**
 * @brief uint8 -> int8: clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max) (TFLM
 *        Requantize).
 * @param p      parameters
 * @param input  uint8
 * @param output int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_u8_s8(const fitml_requantize_s8_params *p, const uint8_t *input,
                                    int8_t *output);

/**
 * @brief uint8 -> uint8: clamp(MBQM(q - zp_in, M, s) + zp_out, act_min, act_max) (TFLM
 *        Requantize).
 * @param p      parameters
 * @param input  uint8
 * @param output uint8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_requantize_u8(const fitml_requantize_s8_params *p, const uint8_t *input,
                                 uint8_t *output);

/**
 * @brief v = scale * (q - zp) as one float32 multiply (equal to TFLite's double form).
 * @param p      scale and zero point of the input
 * @param input  int8
 * @param output float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_dequantize_s8_f32(const fitml_affine_params *p, const int8_t *input,
                                     float *output);

#endif /* FITML_QUANTIZE_H */
