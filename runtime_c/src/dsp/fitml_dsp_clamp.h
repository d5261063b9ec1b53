/**
 * @file fitml_dsp_clamp.h
 * @brief Internal (DSP builds): the fused activation clamp of int8 outputs, applied after a
 *        fast kernel has written them (requantization, output offset and SSAT to int8 first,
 *        then max(out, act_min), min(out, act_max), as TFLM and CMSIS-NN do). Not public.
 *
 * Four outputs per word: SSUB8 sets each byte's GE flag from the signed difference, SEL picks
 * per byte, so max and min cost two instructions each for 4 values. Since every output is
 * already in [-128, 127], clamping afterwards equals the portable kernels' single clamp.
 */
#ifndef FITML_DSP_CLAMP_H
#define FITML_DSP_CLAMP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fitml/fitml_support.h"

/* out[0..n) = clamp(out, lo, hi), out of line: layers without a clamp pay one test. */
__attribute__((noinline)) static void fitml_dsp_clamp_run(int8_t *out, size_t n, int32_t lo,
                                                          int32_t hi)
{
    const uint32_t lo4 = ((uint32_t)lo & 0xFFu) * 0x01010101u;
    const uint32_t hi4 = ((uint32_t)hi & 0xFFu) * 0x01010101u;
    for (; n > 0 && ((uintptr_t)out & 3u) != 0; n--, out++) {
        *out = (int8_t)fitml_clamp(*out, lo, hi);
    }
#if FITML_HAS_DSP
    for (; n >= 8; n -= 8, out += 8) {
        uint32_t a, b, t;
        memcpy(&a, out, 4);
        memcpy(&b, out + 4, 4);
        __asm__("ssub8 %[t], %[a], %[lo]\n\t"
                "sel %[a], %[a], %[lo]\n\t"
                "ssub8 %[t], %[a], %[hi]\n\t"
                "sel %[a], %[hi], %[a]\n\t"
                "ssub8 %[t], %[b], %[lo]\n\t"
                "sel %[b], %[b], %[lo]\n\t"
                "ssub8 %[t], %[b], %[hi]\n\t"
                "sel %[b], %[hi], %[b]\n\t"
                : [a] "+r"(a), [b] "+r"(b), [t] "=&r"(t)
                : [lo] "r"(lo4), [hi] "r"(hi4)
                : "cc");
        memcpy(out, &a, 4);
        memcpy(out + 4, &b, 4);
    }
#else
    (void)lo4, (void)hi4;
#endif
    for (; n > 0; n--, out++) {
        *out = (int8_t)fitml_clamp(*out, lo, hi);
    }
}

/** @brief out[0..n) = clamp(out, lo, hi), -128 <= lo <= hi <= 127; nothing for the full range. */
static inline void fitml_dsp_clamp_s8(int8_t *out, size_t n, int32_t lo, int32_t hi)
{
    if (lo > -128 || hi < 127) {
        fitml_dsp_clamp_run(out, n, lo, hi);
    }
}

#endif /* FITML_DSP_CLAMP_H */
