/**
 * @file fitml_quantize.h
 * @brief QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).
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
 * @brief v = scale * (q - zp) as one float32 multiply (equal to TFLite's double form).
 * @param p      scale and zero point of the input
 * @param input  int8
 * @param output float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_dequantize_s8_f32(const fitml_affine_params *p, const int8_t *input,
                                     float *output);

#endif /* FITML_QUANTIZE_H */
