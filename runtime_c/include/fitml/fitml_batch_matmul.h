/**
 * @file fitml_batch_matmul.h
 * @brief BATCH_MATMUL kernels (float32, int8, int16) as TFLite Micro's reference kernel.
 *
 * out[b][i][j] = sum_k lhs[b][i][k] * rhs[b][k][j] over up to three broadcast batch dims. The
 * geometry carries every element stride, so transposed operands (adj_x, adj_y) are read in
 * place: no scratch, no transposed copy.
 */
#ifndef FITML_BATCH_MATMUL_H
#define FITML_BATCH_MATMUL_H

#include "fitml_types.h"

/**
 * @brief float32 BATCH_MATMUL: each output summed over k in order from 0.0f.
 * @param p      parameters
 * @param lhs    lhs operand (layout given by p->geom)
 * @param rhs    rhs operand (layout given by p->geom)
 * @param output [batch...][rows][cols]
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_batch_matmul_f32(const fitml_batch_matmul_f32_params *p, const float *lhs,
                                    const float *rhs, float *output);

/**
 * @brief int8 BATCH_MATMUL: int32 sum (wrapping) of (lhs - lhs_zp) * (rhs - rhs_zp),
 *        double-rounding MBQM, + output_zp, clamped to int8.
 * @param p      parameters (per-tensor quantization)
 * @param lhs    lhs operand
 * @param rhs    rhs operand
 * @param output [batch...][rows][cols]
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_batch_matmul_s8(const fitml_batch_matmul_q_params *p, const int8_t *lhs,
                                   const int8_t *rhs, int8_t *output);

/**
 * @brief int16 BATCH_MATMUL (zero points 0): int64 sum, the int64 MBQM (fitml_mbqm64),
 *        clamped to int16.
 * @param p      parameters (per-tensor quantization, output_shift <= 14)
 * @param lhs    lhs operand
 * @param rhs    rhs operand
 * @param output [batch...][rows][cols]
 * @return FITML_OK or FITML_ERR_ARGUMENT
 */
fitml_status fitml_batch_matmul_s16(const fitml_batch_matmul_q_params *p, const int16_t *lhs,
                                    const int16_t *rhs, int16_t *output);

#endif /* FITML_BATCH_MATMUL_H */
