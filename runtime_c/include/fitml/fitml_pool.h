/**
 * @file fitml_pool.h
 * @brief AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D kernels; windows are clipped to the image.
 */
#ifndef FITML_POOL_H
#define FITML_POOL_H

#include "fitml_types.h"

/**
 * @brief int8 average pool on raw codes: sum over valid taps, divided by their count rounding
 *        half away from zero, then clamped.
 * @param p      parameters
 * @param input  NHWC int8
 * @param output NHWC int8
 * @return FITML_OK, or FITML_ERR_ARGUMENT (also when a window holds no tap, as TFLM fails)
 */
fitml_status fitml_avgpool_s8(const fitml_pool_s8_params *p, const int8_t *input,
                              int8_t *output);

/**
 * @brief int8 max pool on raw codes, then clamped.
 * @param p      parameters
 * @param input  NHWC int8
 * @param output NHWC int8
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_maxpool_s8(const fitml_pool_s8_params *p, const int8_t *input,
                              int8_t *output);

/**
 * @brief float32 average pool (sum over valid taps / count, then clamp).
 * @param p      parameters
 * @param input  NHWC float
 * @param output NHWC float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_avgpool_f32(const fitml_pool_f32_params *p, const float *input,
                               float *output);

/**
 * @brief float32 max pool, then clamp.
 * @param p      parameters
 * @param input  NHWC float
 * @param output NHWC float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_maxpool_f32(const fitml_pool_f32_params *p, const float *input,
                               float *output);

/**
 * @brief float32 L2 pool (TFLM L2_POOL_2D): sqrtf(sum of the valid taps' squares / their
 *        count), then clamp.
 * @param p      parameters
 * @param input  NHWC float
 * @param output NHWC float
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_l2pool_f32(const fitml_pool_f32_params *p, const float *input,
                              float *output);

#endif /* FITML_POOL_H */
