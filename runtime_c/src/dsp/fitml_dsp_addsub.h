/**
 * @file fitml_dsp_addsub.h
 * @brief Internal: int8 ADD/SUB for the DSP variant: two table lookups and one fast
 *        requantization per element (the tables hold each input's rescaled value per code,
 *        SUB's second one negated, see fitml_add_s8_params.lut). Broadcasts and layers
 *        without a table take the portable loop.
 */
#ifndef FITML_DSP_ADDSUB_H
#define FITML_DSP_ADDSUB_H

#include "fitml/fitml_support.h"
#include "../portable/fitml_addsub.h"

static inline fitml_status fitml_dsp_addsub_s8(const fitml_add_s8_params *p, const int8_t *in1,
                                               const int8_t *in2, int8_t *out, int sign)
{
    const int32_t *t1, *t2;
    int32_t m, rnd, e, lo, hi, n;
    if (p == NULL || p->lut == NULL || p->bc.rank != 1 || p->bc.strides1[0] != 1
        || p->bc.strides2[0] != 1 || in1 == NULL || in2 == NULL || out == NULL) {
        return fitml_addsub_s8(p, in1, in2, out, sign);
    }
    t1 = p->lut + 128;
    t2 = p->lut + 384;
    m = p->lut[512], rnd = p->lut[513], e = p->lut[514];
    lo = p->act_min, hi = p->act_max;
    n = p->bc.dims[0];
    if (lo == -128 && hi == 127) {
        const int8_t *const end = in1 + n;
        while (in1 != end) {
            *out++ = (int8_t)__ssat(fitml_requant_fast(t1[*in1++] + t2[*in2++], m, rnd, e), 8);
        }
        return FITML_OK;
    }
    for (; n > 0; n--) {
        const int32_t v = fitml_requant_fast(t1[*in1++] + t2[*in2++], m, rnd, e);
        *out++ = (int8_t)fitml_clamp(v, lo, hi);
    }
    return FITML_OK;
}

#endif /* FITML_DSP_ADDSUB_H */
