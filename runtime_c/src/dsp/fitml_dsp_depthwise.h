/**
 * @file fitml_dsp_depthwise.h
 * @brief Internal (DSP builds): the 3x3 depthwise pixel loop over 4-channel blocks of doubled
 *        int16 taps and fast records (fitml_dsp_dw8.h), reading int8 input lanes in place:
 *        the scratch-free kernel's interior pixels.
 */
#ifndef FITML_DSP_DEPTHWISE_H
#define FITML_DSP_DEPTHWISE_H

#include "fitml/fitml_support.h"

/* One tap of 4 channels: word at r4 -> lanes (c0, c2) in r5, (c1, c3) in r4, times the taps. */
#define DW_TAP(LOAD)                                                                           \
    LOAD                                                                                       \
    "sxtb16 r5, r4\n\t"                                                                        \
    "sxtb16 r4, r4, ror #8\n\t"                                                                \
    "ldrd r8, r9, [%[w]], #8\n\t"                                                              \
    "smlabb r0, r5, r8, r0\n\t"                                                                \
    "smlatt r2, r5, r8, r2\n\t"                                                                \
    "smlabb r1, r4, r9, r1\n\t"                                                                \
    "smlatt r3, r4, r9, r3\n\t"

/* One filter row: taps at t, t + C, t + 2C (t advances by C on the way). */
#define DW_ROW                                                                                 \
    DW_TAP("ldr r4, [%[t]]\n\t")                                                               \
    DW_TAP("ldr r4, [%[t], %[c]]\n\t")                                                         \
    "add %[t], %[t], %[c]\n\t"                                                                 \
    DW_TAP("ldr r4, [%[t], %[c]]\n\t")

/* Doubled accumulator A -> int8 in A, record {m, round, shift} loaded into r4, r5, r8. */
#define DW_RQ(A)                                                                               \
    "ldmia %[w]!, {r4, r5, r8}\n\t"                                                            \
    "smmlar r4, " A ", r4, r5\n\t"                                                             \
    "add r4, r4, " A ", asr #31\n\t"                                                           \
    "asr r4, r4, r8\n\t"                                                                       \
    "ssat " A ", #8, r4\n\t"

/*
 * All channels of one output pixel: p = its window's top-left tap, channel 0, in the padded
 * rows (row pitch `pitch` bytes); out = its first output byte; w walks the blocks.
 */
__attribute__((noinline)) static void dw_pixel(const int8_t *p, const int8_t *pend, int32_t c,
                                               int32_t pitch, const int16_t *w, int8_t *out)
{
    const int8_t *t;
    const int32_t next = pitch - c;
    __asm__ volatile(
        "0:\n\t"
        "ldmia %[w]!, {r0, r1, r2, r3}\n\t"
        "mov %[t], %[p]\n\t"
        DW_ROW "add %[t], %[t], %[next]\n\t"
        DW_ROW "add %[t], %[t], %[next]\n\t"
        DW_ROW
        DW_RQ("r0") DW_RQ("r1") DW_RQ("r2") DW_RQ("r3")
        "bfi r0, r1, #8, #8\n\t"
        "bfi r0, r2, #16, #8\n\t"
        "bfi r0, r3, #24, #8\n\t"
        "ldr r4, %[out]\n\t"
        "str r0, [r4], #4\n\t"
        "str r4, %[out]\n\t"
        "add %[p], %[p], #4\n\t"
        "ldr r4, %[pend]\n\t"
        "cmp %[p], r4\n\t"
        "bne 0b\n\t"
        : [p] "+r"(p), [w] "+r"(w), [t] "=&r"(t), [out] "+m"(out)
        : [c] "r"(c), [next] "r"(next), [pend] "m"(pend)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r8", "r9", "cc", "memory");
}

#endif /* FITML_DSP_DEPTHWISE_H */
