/**
 * @file fitml_dsp_records.h
 * @brief Internal (DSP builds): fast requantization records built at run time from the
 *        portable fields (multiplier, shift, output_zp), for kernels that read plain int8
 *        weights and so carry no records in flash.
 *
 * The record {m, round, e} serves fitml_requant_fast on a doubled accumulator (see
 * FITML_FAST_REQUANT in fitml_types.h). It is exact when |acc| < 2^30 and no sum overflows;
 * the caller passes a bound on |acc| computed from its weights and bias, and gets 0 back
 * when the record cannot be proven exact (then it runs its exact path).
 */
#ifndef FITML_DSP_RECORDS_H
#define FITML_DSP_RECORDS_H

#include "fitml/fitml_support.h"

/**
 * @brief rec = {m, round, e} for outputs requantized by (m, shift) + zp from accumulators with
 *        |acc| <= bound; 1 if exact, 0 if not provable (left shift, shift < -22, bound >= 2^30,
 *        negative multiplier). Channels whose output cannot depend on acc (m == 0, or
 *        |SRDHM(acc, m)| < 2^(e-1)) get {0, 2 * zp + 1, 1}, which yields zp.
 */
static inline int fitml_dsp_record(int32_t m, int32_t shift, int32_t zp, uint32_t bound,
                                   int32_t *rec)
{
    const int32_t e = -shift;
    if (bound >= (1u << 30) || m < 0) {
        return 0;
    }
    if (m == 0 || (e >= 1 && (e > 31 || bound + 1u < (1u << (e - 1))))) {
        rec[0] = 0;
        rec[1] = 2 * zp + 1;
        rec[2] = 1;
        return 1;
    }
    if (e < 1 || e > 22) {          /* |round| < 2^30 keeps round + SRDHM within int32 */
        return 0;
    }
    rec[0] = m;
    rec[1] = (int32_t)((1u << (e - 1)) + (uint32_t)zp * (1u << e));
    rec[2] = e;
    return 1;
}

/** @brief |v| as uint32 (v = INT32_MIN gives 2^31). */
static inline uint32_t fitml_dsp_abs(int32_t v)
{
    return v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
}

#endif /* FITML_DSP_RECORDS_H */
