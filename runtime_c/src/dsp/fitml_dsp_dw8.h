/**
 * @file fitml_dsp_dw8.h
 * @brief Internal (DSP builds): the 3x3 depthwise pieces that read the plain int8 filter.
 *
 * - A block per 4 channels (34 words, built at run time into scratch, once per call):
 *   {init0..3 (doubled folded bias), taps 0..8 as (w_c0, w_c2), (w_c1, w_c3) int16 pairs
 *   (doubled), (m, round, e) x 4}, the fast records proven exact from the weights and bias.
 * - The input rows a pass reads, widened once per 4 channels: per padded pixel NR rows of
 *   2 words {(c0, c2), (c1, c3)} (SXTB16 lanes), so a tap is one LDRD at a fixed offset.
 * - The pixel loop: per tap LDRD input, LDRD taps, 4 SMLAxy; SMMLAR requantization.
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

/* The rows and columns of one pass's widening (see DW8_WIDEN_FN). */
typedef struct {
    const int8_t *src;          /* first row's first pixel inside the image, channel c0 */
    int32_t c, pitch;           /* input channel stride and row pitch (bytes) */
    int32_t n;                  /* pixels inside the image per row (> 0) */
    int32_t rows;               /* rows widened by the pass */
    uint32_t valid;             /* bit k: row k is inside the image */
    uint32_t zp;                /* input_zp in both int16 lanes */
    uint32_t *dst;              /* widened rows, first pixel inside the image */
} dw8_pass;

/*
 * Widened rows of one 4-channel group: padded pixel px (input column px - pad_w) at
 * dst + px * P / 4, row k at + 2 * k. The padding columns are written once per call
 * (dw8_pads); a pass writes the columns inside the image: rows inside widened from the
 * input, rows outside filled with input_zp. `ch` offsets the source by the group's channels.
 */
#define DW8_WIDEN_FN(NAME, P)                                                                  \
    static void NAME(const dw8_pass *s, int32_t ch)                                            \
    {                                                                                          \
        int32_t k;                                                                             \
        for (k = 0; k < s->rows; k++) {                                                        \
            const int8_t *src = s->src + ch + k * s->pitch;                                    \
            uint32_t *d = s->dst + 2 * k, t0, t1;                                              \
            int32_t n = s->n;                                                                  \
            if (((s->valid >> k) & 1u) == 0u) {                                                \
                __asm__ volatile("1:\n\t"                                                      \
                                 "strd %[z], %[z], [%[d]], #" #P "\n\t"                        \
                                 "subs %[n], %[n], #1\n\t"                                     \
                                 "bne 1b\n\t"                                                  \
                                 : [d] "+r"(d), [n] "+r"(n)                                    \
                                 : [z] "r"(s->zp)                                              \
                                 : "cc", "memory");                                            \
                continue;                                                                      \
            }                                                                                  \
            __asm__ volatile("1:\n\t"                                                          \
                             "ldr %[t0], [%[s]]\n\t"                                           \
                             "add %[s], %[s], %[c]\n\t"                                        \
                             "sxtb16 %[t1], %[t0]\n\t"                                         \
                             "sxtb16 %[t0], %[t0], ror #8\n\t"                                 \
                             "strd %[t1], %[t0], [%[d]], #" #P "\n\t"                          \
                             "subs %[n], %[n], #1\n\t"                                         \
                             "bne 1b\n\t"                                                      \
                             : [s] "+r"(src), [d] "+r"(d), [n] "+r"(n), [t0] "=&r"(t0),        \
                               [t1] "=&r"(t1)                                                  \
                             : [c] "r"(s->c)                                                   \
                             : "cc", "memory");                                                \
        }                                                                                      \
    }

/* One tap: input pair at [t, #OFF], the block's doubled taps streamed from w. */
#define DW8_TAP(OFF)                                                                           \
    "ldrd r4, r5, [%[t], #(" #OFF ")]\n\t"                                                     \
    "ldrd r8, r9, [%[w]], #8\n\t"                                                              \
    "smlabb r0, r4, r8, r0\n\t"                                                                \
    "smlatt r2, r4, r8, r2\n\t"                                                                \
    "smlabb r1, r5, r9, r1\n\t"                                                                \
    "smlatt r3, r5, r9, r3\n\t"

/* Doubled accumulator A -> int8 in A, record {m, round, e} loaded into r4, r5, r8. */
#define DW8_RQ(A)                                                                              \
    "ldmia %[w]!, {r4, r5, r8}\n\t"                                                            \
    "smmlar r4, " A ", r4, r5\n\t"                                                             \
    "add r4, r4, " A ", asr #31\n\t"                                                           \
    "asr r4, r4, r8\n\t"                                                                       \
    "ssat " A ", #8, r4\n\t"

/*
 * A row of output pixels for one 4-channel group: t = the first pixel's window in the widened
 * rows (pixel pitch P bytes, rows 8 bytes apart), advanced by tstep up to tend; w = the group's
 * block; 4 outputs stored per pixel at out, advanced by ostride.
 */
#define DW8_ROW_FN(NAME, P)                                                                    \
    __attribute__((noinline)) static void NAME(const uint32_t *t, const uint32_t *tend,       \
                                               int32_t tstep, const int32_t *w, int8_t *out,   \
                                               int32_t ostride)                                \
    {                                                                                          \
        __asm__ volatile(                                                                      \
            "0:\n\t"                                                                           \
            "ldmia %[w]!, {r0, r1, r2, r3}\n\t"                                                \
            DW8_TAP(0) DW8_TAP(P) DW8_TAP(2 * P)                                               \
            DW8_TAP(8) DW8_TAP(8 + P) DW8_TAP(8 + 2 * P)                                       \
            DW8_TAP(16) DW8_TAP(16 + P) DW8_TAP(16 + 2 * P)                                    \
            DW8_RQ("r0") DW8_RQ("r1") DW8_RQ("r2") DW8_RQ("r3")                                \
            "bfi r0, r1, #8, #8\n\t"                                                           \
            "bfi r0, r2, #16, #8\n\t"                                                          \
            "bfi r0, r3, #24, #8\n\t"                                                          \
            "str r0, [%[out]]\n\t"                                                             \
            "add %[out], %[out], %[os]\n\t"                                                    \
            "sub %[w], %[w], #136\n\t"                                                         \
            "add %[t], %[t], %[step]\n\t"                                                      \
            "ldr r4, %[tend]\n\t"                                                              \
            "cmp %[t], r4\n\t"                                                                 \
            "bne 0b\n\t"                                                                       \
            : [t] "+r"(t), [w] "+r"(w), [out] "+r"(out)                                        \
            : [tend] "m"(tend), [step] "r"(tstep), [os] "r"(ostride)                           \
            : "r0", "r1", "r2", "r3", "r4", "r5", "r8", "r9", "cc", "memory");                \
    }

#endif /* FITML_DSP_DW8_H */
