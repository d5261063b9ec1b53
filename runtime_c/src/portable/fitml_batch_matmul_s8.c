/**
 * @file fitml_batch_matmul_s8.c
 * @brief int8 BATCH_MATMUL as TFLM's reference_ops::BatchMatMul<int8_t, int32_t>: the int32
 *        sum wraps (computed in uint32_t), then MBQM, + output_zp, clamped to int8.
 */
#include "fitml/fitml_support.h"
#include "fitml_batch_matmul_loop.h"

/* (a - zp_l) * (b - zp_r) fits int32; the sum wraps as TFLM's int32 accumulator. */
#define S8_PRODUCT(acc, a, b) \
    fitml_wrap_add((acc), ((int32_t)(a) - p->lhs_zp) * ((int32_t)(b) - p->rhs_zp))

static inline int8_t s8_store(const fitml_batch_matmul_q_params *p, int32_t acc)
{
    return (int8_t)fitml_clamp(fitml_mbqm(acc, p->output_multiplier, p->output_shift)
                                   + p->output_zp, -128, 127);
}

FITML_BATCH_MATMUL(bmm_s8, fitml_batch_matmul_q_params, int8_t, int32_t, 0, S8_PRODUCT, s8_store)

fitml_status fitml_batch_matmul_s8(const fitml_batch_matmul_q_params *p, const int8_t *lhs,
                                   const int8_t *rhs, int8_t *output)
{
    if (p == NULL || lhs == NULL || rhs == NULL || output == NULL || fitml_bmm_bad(&p->geom)) {
        return FITML_ERR_ARGUMENT;
    }
    bmm_s8(p, lhs, rhs, output);
    return FITML_OK;
}
