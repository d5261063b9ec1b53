/**
 * @file fitml_dsp_dw8_rows.h
 * @brief Internal (DSP builds): the depthwise kernel's widened input rows and pixel loop. The
 *        input rows a pass reads are widened once per 4 channels: per padded pixel 5 rows of
 *        2 words {(c0, c2), (c1, c3)} (SXTB16 lanes), so a tap is one LDRD at a fixed offset;
 *        per tap LDRD input, LDRD taps (the block, fitml_dsp_dw8.h), 4 SMLAxy.
 */
#ifndef FITML_DSP_DW8_ROWS_H
#define FITML_DSP_DW8_ROWS_H

#include "fitml/fitml_support.h"

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

/* Bytes per padded pixel of the widened rows: 5 rows (two output rows at stride_h 1 or 2). */
#define DW8_P 40
#define DW8_STR(x) DW8_STR2(x)
#define DW8_STR2(x) #x

/*
 * Widened rows of one 4-channel group: padded pixel px (input column px - pad_w) at
 * dst + px * DW8_P / 4, row k at + 2 * k. The padding columns are written once per call
 * (dw8_pads); a pass writes the columns inside the image: rows inside widened from the
 * input, rows outside filled with input_zp. `ch` offsets the source by the group's channels.
 */
static void dw8_widen(const dw8_pass *s, int32_t ch)
{
    int32_t k;
    for (k = 0; k < s->rows; k++) {
        const int8_t *src = s->src + ch + k * s->pitch;
        uint32_t *d = s->dst + 2 * k, t0, t1, t2, t3;
        int32_t n = s->n;
        if (((s->valid >> k) & 1u) == 0u) {
            __asm__ volatile("1:\n\t"
                             "strd %[z], %[z], [%[d]], #" DW8_STR(DW8_P) "\n\t"
                             "subs %[n], %[n], #1\n\t"
                             "bne 1b\n\t"
                             : [d] "+r"(d), [n] "+r"(n)
                             : [z] "r"(s->zp)
                             : "cc", "memory");
            continue;
        }
        if (n & 1) {
            __asm__ volatile("ldr %[t0], [%[s]]\n\t"
                             "add %[s], %[s], %[c]\n\t"
                             "sxtb16 %[t1], %[t0]\n\t"
                             "sxtb16 %[t0], %[t0], ror #8\n\t"
                             "strd %[t1], %[t0], [%[d]], #" DW8_STR(DW8_P) "\n\t"
                             : [s] "+r"(src), [d] "+r"(d), [t0] "=&r"(t0), [t1] "=&r"(t1)
                             : [c] "r"(s->c)
                             : "memory");
            n--;
        }
        if (n > 0) {            /* two pixels per pass */
            __asm__ volatile("1:\n\t"
                             "ldr %[t0], [%[s]]\n\t"
                             "ldr %[t2], [%[s], %[c]]\n\t"
                             "add %[s], %[s], %[c], lsl #1\n\t"
                             "sxtb16 %[t1], %[t0]\n\t"
                             "sxtb16 %[t0], %[t0], ror #8\n\t"
                             "sxtb16 %[t3], %[t2]\n\t"
                             "sxtb16 %[t2], %[t2], ror #8\n\t"
                             "strd %[t1], %[t0], [%[d]], #" DW8_STR(DW8_P) "\n\t"
                             "strd %[t3], %[t2], [%[d]], #" DW8_STR(DW8_P) "\n\t"
                             "subs %[n], %[n], #2\n\t"
                             "bne 1b\n\t"
                             : [s] "+r"(src), [d] "+r"(d), [n] "+r"(n), [t0] "=&r"(t0),
                               [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)
                             : [c] "r"(s->c)
                             : "cc", "memory");
        }
    }
}

/* One tap: input pair at [t, #OFF], the block's doubled taps streamed from w. */
#define DW8_TAP(OFF)                                                                           \
    "ldrd r4, r5, [%[t], #" DW8_STR(OFF) "]\n\t"                                                \
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
 * rows (pixel pitch DW8_P bytes, rows 8 bytes apart), advanced by tstep up to tend; w = the
 * group's block; 4 outputs stored per pixel at out, advanced by ostride.
 */
__attribute__((noinline)) static void dw8_row(const uint32_t *t, const uint32_t *tend,
                                              int32_t tstep, const int32_t *w, int8_t *out,
                                              int32_t ostride)
{
    __asm__ volatile(
        "0:\n\t"
        "ldmia %[w]!, {r0, r1, r2, r3}\n\t"
        DW8_TAP(0) DW8_TAP(DW8_P) DW8_TAP(2 * DW8_P)
        DW8_TAP(8) DW8_TAP(8 + DW8_P) DW8_TAP(8 + 2 * DW8_P)
        DW8_TAP(16) DW8_TAP(16 + DW8_P) DW8_TAP(16 + 2 * DW8_P)
        DW8_RQ("r0") DW8_RQ("r1") DW8_RQ("r2") DW8_RQ("r3")
        "bfi r0, r1, #8, #8\n\t"
        "bfi r0, r2, #16, #8\n\t"
        "bfi r0, r3, #24, #8\n\t"
        "str r0, [%[out]]\n\t"
        "add %[out], %[out], %[os]\n\t"
        "sub %[w], %[w], #136\n\t"
        "add %[t], %[t], %[step]\n\t"
        "ldr r4, %[tend]\n\t"
        "cmp %[t], r4\n\t"
        "bne 0b\n\t"
        : [t] "+r"(t), [w] "+r"(w), [out] "+r"(out)
        : [tend] "m"(tend), [step] "r"(tstep), [os] "r"(ostride)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r8", "r9", "cc", "memory");
}

#endif /* FITML_DSP_DW8_ROWS_H */
