/**
 * @file fitml_dsp_conv8.h
 * @brief Internal (DSP builds): the int8-filter pass of the im2col conv: every channel of 4
 *        gathered pixels, the filter rows read straight from flash in their natural order.
 *
 * Per 4-deep block one LDR of 4 filter bytes, two SXTB16, two LDMs of the 4 pixels' widened
 * lanes (fitml_dsp.h) and 8 SMLADs: 13 instructions per 16 MACs. The channel loop, the fast
 * requantization (records proven exact at compile time) and the 4 strided stores stay in one
 * asm block, with the per-call values in memory operands (the block uses 13 registers).
 */
#ifndef FITML_DSP_CONV8_H
#define FITML_DSP_CONV8_H

#include "fitml/fitml_support.h"

/* acc r0..r3 += one block: filter word at [w], 4 pixels' lanes at [x] (both advanced). */
#define CONV8_BLOCK                                                                            \
    "ldr r9, [%[w]], #4\n\t"                                                                   \
    "ldmia %[x]!, {r4, r5, r6, r8}\n\t"                                                        \
    "sxtb16 r10, r9\n\t"                                                                       \
    "sxtb16 r9, r9, ror #8\n\t"                                                                \
    "smlad r0, r4, r10, r0\n\t"                                                                \
    "smlad r0, r5, r9, r0\n\t"                                                                 \
    "smlad r1, r6, r10, r1\n\t"                                                                \
    "smlad r1, r8, r9, r1\n\t"                                                                 \
    "ldmia %[x]!, {r4, r5, r6, r8}\n\t"                                                        \
    "smlad r2, r4, r10, r2\n\t"                                                                \
    "smlad r2, r5, r9, r2\n\t"                                                                 \
    "smlad r3, r6, r10, r3\n\t"                                                                \
    "smlad r3, r8, r9, r3\n\t"

/* Accumulator A -> int8 in A: doubled, then the record {m, round, e} in r4, r5, r6. */
#define CONV8_RQ(A)                                                                            \
    "lsl " A ", " A ", #1\n\t"                                                                 \
    "smmlar r8, " A ", r4, r5\n\t"                                                             \
    "add r8, r8, " A ", asr #31\n\t"                                                           \
    "asr r8, r8, r6\n\t"                                                                       \
    "ssat " A ", #8, r8\n\t"

/*
 * Channels [0, n) of 4 pixels: filter rows from w, `depth` bytes apart (blocks, even, = depth
 * rounded up to 8, over 4; the patches' tail lanes are 0, so a row's last blocks may read the
 * next row's first bytes); rec = FITML_FAST_REQUANT records; channel c of pixel j to
 * out[j * stride + c]. Returns w + n * depth.
 */
static const int8_t *conv8_pass(const int8_t *w, int32_t depth, const uint32_t *xs,
                                int32_t blocks, const int32_t *rec, int32_t n, int8_t *out,
                                int32_t stride)
{
    int8_t *const oend = out + n;
    const uint32_t *const xend = xs + 8 * blocks;
    const int32_t wadj = 4 * blocks - depth;
    const uint32_t *x;
    __asm__ volatile(
        "0:\n\t"
        "ldr r9, %[rec]\n\t"
        "ldr r0, [r9]\n\t"
        "mov r1, r0\n\tmov r2, r0\n\tmov r3, r0\n\t"
        "ldr %[x], %[xs]\n\t"
        "1:\n\t" CONV8_BLOCK CONV8_BLOCK
        "cmp %[x], %[xend]\n\t"
        "bne 1b\n\t"
        "ldr r9, %[rec]\n\t"
        "add r9, r9, #4\n\t"
        "ldmia r9!, {r4, r5, r6}\n\t"
        "str r9, %[rec]\n\t"
        CONV8_RQ("r0") CONV8_RQ("r1") CONV8_RQ("r2") CONV8_RQ("r3")
        "ldr r9, %[out]\n\t"
        "ldr r10, %[stride]\n\t"
        "strb r0, [r9]\n\t"
        "strb r1, [r9, r10]\n\t"
        "add r4, r9, r10, lsl #1\n\t"
        "strb r2, [r4]\n\t"
        "strb r3, [r4, r10]\n\t"
        "add r9, r9, #1\n\t"
        "str r9, %[out]\n\t"
        "ldr r10, %[wadj]\n\t"
        "sub %[w], %[w], r10\n\t"
        "ldr r10, %[oend]\n\t"
        "cmp r9, r10\n\t"
        "bne 0b\n\t"
        : [w] "+r"(w), [x] "=&r"(x), [rec] "+m"(rec), [out] "+m"(out)
        : [xs] "m"(xs), [xend] "r"(xend), [stride] "m"(stride), [wadj] "m"(wadj),
          [oend] "m"(oend)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "cc", "memory");
    return w;
}

#endif /* FITML_DSP_CONV8_H */
