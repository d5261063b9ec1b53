/**
 * @file fitml_dsp_dw8.h
 * @brief Internal (DSP builds): the blocks the 3x3 depthwise kernels build from the plain int8
 *        filter at run time (into scratch, or on the stack for the scratch-free twin): per 4
 *        channels 34 words {init0..3 (doubled folded bias), taps 0..8 as (w_c0, w_c2),
 *        (w_c1, w_c3) int16 pairs (doubled), (m, round, e) x 4}, the fast records proven exact
 *        from the weights and bias.
 */
#ifndef FITML_DSP_DW8_H
#define FITML_DSP_DW8_H

#include <string.h>

#include "fitml/fitml_support.h"
#include "fitml_dsp_records.h"

#define DW8_BLOCK 34            /* words per 4 channels */

/* Channel ch's fast record into rec for |acc| <= |bias| + 128 * sum|w| (its own sum: the
 * caller tried the bound every 3x3 filter meets first). */
__attribute__((noinline)) static int dw8_record(const fitml_depthwise_conv_s8_params *p,
                                                int32_t ch, int32_t *rec)
{
    const int32_t q = p->requant.per_channel ? ch : 0, c = p->geom.output.c;
    const uint32_t b = fitml_dsp_abs(p->bias[ch]);
    uint32_t sum = 0u;
    int32_t t;
    for (t = 0; t < 9; t++) {
        sum += fitml_dsp_abs(p->filter[t * c + ch]);
    }
    return b < (1u << 30) && fitml_dsp_record(p->requant.multiplier[q], p->requant.shift[q],
                                              p->output_zp, b + 128u * sum, rec);
}

/* Blocks of channels [c0, c0 + 4 * groups) into blk; 0 if a record cannot be proven exact. */
static int dw8_blocks(const fitml_depthwise_conv_s8_params *p, int32_t c0, int32_t groups,
                      int32_t *blk)
{
    const int32_t c = p->geom.output.c, zp = p->output_zp, pc = p->requant.per_channel;
    int32_t gi, j, t;
    for (gi = 0; gi < groups; gi++, blk += DW8_BLOCK) {
        const int32_t ch = c0 + 4 * gi;
        const int8_t *w = p->filter + ch;
        for (t = 0; t < 9; t++, w += c) {
            uint32_t v, lo, hi;
            memcpy(&v, w, 4);
            lo = fitml_sxtb16(v);
            hi = fitml_sxtb16_ror8(v);
            blk[4 + 2 * t] = (int32_t)__sadd16(lo, lo);
            blk[5 + 2 * t] = (int32_t)__sadd16(hi, hi);
        }
        for (j = 0; j < 4; j++) {
            const int32_t bias = p->bias[ch + j];
            const int32_t m = p->requant.multiplier[pc ? ch + j : 0];
            const int32_t e = -p->requant.shift[pc ? ch + j : 0];
            int32_t *rec = blk + 22 + 3 * j;
            blk[j] = (int32_t)(2u * (uint32_t)bias);
            /* the usual case: |acc| <= |bias| + 9 * 128 * 128 < 2^30, 1 <= e <= 22, m > 0 */
            if (m > 0 && e >= 1 && e <= 22 && bias < (1 << 30) - 147456
                && bias > -(1 << 30) + 147456) {
                rec[0] = m;
                rec[1] = (int32_t)((1u << (e - 1)) + (uint32_t)zp * (1u << e));
                rec[2] = e;
            } else if (!dw8_record(p, ch + j, rec)) {
                return 0;
            }
        }
    }
    return 1;
}

#endif /* FITML_DSP_DW8_H */
