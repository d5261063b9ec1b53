/**
 * @file fitml_dsp.h
 * @brief Internal: the DSP conv kernel's widening and short copies (the 4-pixel SMLAD pass is
 *        fitml_dsp_conv8.h). Not part of the public API.
 *
 * Widened layout: 4 int8 x[0..3] become two words of int16 lanes, A = (x0, x2), B = (x1, x3),
 * which is what SXTB16 and SXTB16 ROR 8 make of the 4 filter bytes, so SMLAD(A, wA) +
 * SMLAD(B, wB) is the 4-deep dot product. Patches of 4 pixels are interleaved by block:
 * block b holds A0 B0 A1 B1 A2 B2 A3 B3 (pixel 0..3), 32 bytes, read by two LDMs.
 */
#ifndef FITML_DSP_H
#define FITML_DSP_H

#include <string.h>

#include "fitml/fitml_support.h"

/**
 * @brief Widens `blocks` (>= 1) 4-byte groups from src into one pixel's slots of a 4-pixel
 *        patch (dst[0], dst[1], then 8 words further per block); returns the next dst.
 */
static inline uint32_t *fitml_dsp_widen_run(const int8_t *src, uint32_t *dst, int32_t blocks)
{
    const int8_t *const end = src + 4 * blocks;
    uint32_t t0, t1, t2, t3;
    if (blocks & 1) {
        __asm__ volatile("ldr %[t0], [%[s]], #4\n\t"
                         "sxtb16 %[t1], %[t0]\n\t"
                         "sxtb16 %[t0], %[t0], ror #8\n\t"
                         "strd %[t1], %[t0], [%[d]], #32\n\t"
                         : [s] "+r"(src), [d] "+r"(dst), [t0] "=&r"(t0), [t1] "=&r"(t1)
                         :
                         : "memory");
    }
    if (src != end) {           /* two blocks per pass (single LDRs: src may be unaligned) */
        __asm__ volatile("1:\n\t"
                         "ldr %[t0], [%[s]], #4\n\t"
                         "ldr %[t2], [%[s]], #4\n\t"
                         "sxtb16 %[t1], %[t0]\n\t"
                         "sxtb16 %[t0], %[t0], ror #8\n\t"
                         "sxtb16 %[t3], %[t2]\n\t"
                         "sxtb16 %[t2], %[t2], ror #8\n\t"
                         "strd %[t1], %[t0], [%[d]], #32\n\t"
                         "strd %[t3], %[t2], [%[d]], #32\n\t"
                         "cmp %[s], %[e]\n\t"
                         "bne 1b\n\t"
                         : [s] "+r"(src), [d] "+r"(dst), [t0] "=&r"(t0), [t1] "=&r"(t1),
                           [t2] "=&r"(t2), [t3] "=&r"(t3)
                         : [e] "r"(end)
                         : "cc", "memory");
    }
    return dst;
}

/*
 * Short copies and fills for im2col rows (a few bytes each, at any alignment): inline word
 * and byte loops, cheaper than a libc call that goes byte by byte on unaligned spans. The
 * empty asm keeps gcc from turning the loops back into memcpy/memset calls.
 */
static inline void fitml_dsp_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    uint32_t v;
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        memcpy(&v, src, 4);
        memcpy(dst, &v, 4);
        __asm__ volatile("" ::: "memory");
    }
    for (; n > 0; n--) {
        *dst++ = *src++;
        __asm__ volatile("" ::: "memory");
    }
}

static inline void fitml_dsp_fill(int8_t *dst, int32_t value, int32_t n)
{
    const uint32_t v = ((uint32_t)value & 0xFFu) * 0x01010101u;
    for (; n >= 4; n -= 4, dst += 4) {
        memcpy(dst, &v, 4);
        __asm__ volatile("" ::: "memory");
    }
    for (; n > 0; n--) {
        *dst++ = (int8_t)value;
        __asm__ volatile("" ::: "memory");
    }
}

#endif /* FITML_DSP_H */
