/**
 * @file fitml_batch_matmul_f32.c
 * @brief float32 BATCH_MATMUL in TFLite Micro's order: each output summed over k from 0.0f.
 */
#include "fitml_batch_matmul_loop.h"

#define F32_PRODUCT(acc, a, b) ((acc) + (a) * (b))
#define F32_STORE(p, acc) (acc)

FITML_BATCH_MATMUL(bmm_f32, fitml_batch_matmul_f32_params, float, float, 0.0f, F32_PRODUCT,
                   F32_STORE)

fitml_status fitml_batch_matmul_f32(const fitml_batch_matmul_f32_params *p, const float *lhs,
                                    const float *rhs, float *output)
{
    if (p == NULL || lhs == NULL || rhs == NULL || output == NULL || fitml_bmm_bad(&p->geom)) {
        return FITML_ERR_ARGUMENT;
    }
    bmm_f32(p, lhs, rhs, output);
    return FITML_OK;
}
