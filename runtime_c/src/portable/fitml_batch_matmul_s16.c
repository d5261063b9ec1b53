/**
 * @file fitml_batch_matmul_s16.c
 * @brief int16 BATCH_MATMUL as TFLM's reference_ops::BatchMatMul<int16_t, int64_t>: zero
 *        points 0, an int64 sum, the int64 MBQM overload, clamped to int16.
 */
#include "fitml/fitml_support.h"
#include "fitml_batch_matmul_loop.h"

/* a * b fits int32 for int16 operands; the int64 sum stays far from overflow (K < 2^33). */
#define S16_PRODUCT(acc, a, b) ((acc) + (int64_t)((int32_t)(a) * (int32_t)(b)))

static inline int16_t s16_store(const fitml_batch_matmul_q_params *p, int64_t acc)
{
    return (int16_t)fitml_clamp(fitml_mbqm64(acc, p->output_multiplier, p->output_shift)
                                    + p->output_zp, -32768, 32767);
}

FITML_BATCH_MATMUL(bmm_s16, fitml_batch_matmul_q_params, int16_t, int64_t, 0, S16_PRODUCT,
                   s16_store)

fitml_status fitml_batch_matmul_s16(const fitml_batch_matmul_q_params *p, const int16_t *lhs,
                                    const int16_t *rhs, int16_t *output)
{
    if (p == NULL || lhs == NULL || rhs == NULL || output == NULL || fitml_bmm_bad(&p->geom)
        || p->output_shift > 14) {
        return FITML_ERR_ARGUMENT;
    }
    bmm_s16(p, lhs, rhs, output);
    return FITML_OK;
}
