/**
 * @file fitml_resize.h
 * @brief RESIZE_NEAREST_NEIGHBOR (any element type) and RESIZE_BILINEAR (int8, float32), NHWC.
 *
 * The source rows and columns (and bilinear fractions) are tables computed at compile time
 * exactly as TFLite's reference kernels compute them; the kernels only gather and weigh.
 */
#ifndef FITML_RESIZE_H
#define FITML_RESIZE_H

#include "fitml_types.h"

/**
 * @brief RESIZE_NEAREST_NEIGHBOR: each output pixel a copy of input pixel (rows[y], cols[x]).
 * @param p      parameters
 * @param input  input elements, NHWC
 * @param output output elements, NHWC (must not overlap the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_resize_nearest(const fitml_resize_nearest_params *p, const void *input,
                                  void *output);

/**
 * @brief RESIZE_BILINEAR int8 as TFLite's ResizeBilinearInteger: the four corners weighed in
 *        1/2^20 units, then (sum +- 2^19) / 2^20 toward zero.
 * @param p      parameters
 * @param input  int8, NHWC
 * @param output int8, NHWC (must not overlap the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_resize_bilinear_s8(const fitml_resize_bilinear_s8_params *p,
                                      const int8_t *input, int8_t *output);

/**
 * @brief RESIZE_BILINEAR float32 as TFLite's ResizeBilinear: the four products in its order,
 *        each rounded to float (no fused multiply-add).
 * @param p      parameters
 * @param input  float, NHWC
 * @param output float, NHWC (must not overlap the input)
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_resize_bilinear_f32(const fitml_resize_bilinear_f32_params *p,
                                       const float *input, float *output);

#endif /* FITML_RESIZE_H */
