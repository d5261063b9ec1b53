/**
 * @file fitml_mve.h
 * @brief Internal: Helium (MVE) int8 dot products for the M55 conv and FC kernels.
 *
 * VMLADAVA.S8 multiplies 16 int8 lanes and adds all products to a scalar accumulator, so the
 * int8 filter rows are used as stored (no widening, no extra layout): 4 rows share each 16-byte
 * load of the input. The accumulators are requantized with the DSP kernels' fast records
 * (FITML_FAST_REQUANT), which Python proved exact.
 */
#ifndef FITML_MVE_H
#define FITML_MVE_H

#include <arm_mve.h>

#include "fitml/fitml_support.h"

/** @brief a[j] = sum_k x[k] * w[j * stride + k] over k < depth, for rows j = 0..3. */
static inline void fitml_mve_dot4(const int8_t *x, const int8_t *w, int32_t stride,
                                  int32_t depth, int32_t a[4])
{
    const int8_t *w1 = w + stride, *w2 = w1 + stride, *w3 = w2 + stride;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, k = 0;
    for (; k + 16 <= depth; k += 16) {
        const int8x16_t v = vldrbq_s8(x + k);
        a0 = vmladavaq_s8(a0, v, vldrbq_s8(w + k));
        a1 = vmladavaq_s8(a1, v, vldrbq_s8(w1 + k));
        a2 = vmladavaq_s8(a2, v, vldrbq_s8(w2 + k));
        a3 = vmladavaq_s8(a3, v, vldrbq_s8(w3 + k));
    }
    if (k < depth) {                     /* the last lanes, predicated (nothing read past) */
        const mve_pred16_t p = vctp8q((uint32_t)(depth - k));
        const int8x16_t v = vldrbq_z_s8(x + k, p);
        a0 = vmladavaq_p_s8(a0, v, vldrbq_z_s8(w + k, p), p);
        a1 = vmladavaq_p_s8(a1, v, vldrbq_z_s8(w1 + k, p), p);
        a2 = vmladavaq_p_s8(a2, v, vldrbq_z_s8(w2 + k, p), p);
        a3 = vmladavaq_p_s8(a3, v, vldrbq_z_s8(w3 + k, p), p);
    }
    a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3;
}

/** @brief sum_k x[k] * w[k] over k < depth. */
static inline int32_t fitml_mve_dot(const int8_t *x, const int8_t *w, int32_t depth)
{
    int32_t acc = 0, k = 0;
    for (; k < depth; k += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)(depth - k));
        acc = vmladavaq_p_s8(acc, vldrbq_z_s8(x + k, p), vldrbq_z_s8(w + k, p), p);
    }
    return acc;
}

/** @brief Doubled accumulator a2 -> int8 with record {m, round, shift} (full int8 clamp). */
static inline int8_t fitml_mve_out(int32_t a2, const int32_t *mrs)
{
    return (int8_t)__ssat(fitml_requant_fast(a2, mrs[0], mrs[1], mrs[2]), 8);
}

#endif /* FITML_MVE_H */
