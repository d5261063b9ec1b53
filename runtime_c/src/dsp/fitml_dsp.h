/**
 * @file fitml_dsp.h
 * @brief Internal: the DSP conv kernel's pieces (widening, the 4-pixel SMLAD dot product,
 *        requantize-and-store of 4 accumulators). Not part of the public API.
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

/** @brief Four int32 accumulators (one per pixel, or per row). */
typedef struct {
    int32_t v[4];
} fitml_acc4;

/**
 * @brief All 4 accumulators = init. Four distinct registers: gcc cannot allocate asm in-out
 *        operands that start from one value (it reports impossible constraints).
 */
static inline void fitml_dsp_acc4_init(fitml_acc4 *a, int32_t init)
{
    __asm__("mov %0, %4\n\tmov %1, %4\n\tmov %2, %4\n\tmov %3, %4"
            : "=&r"(a->v[0]), "=&r"(a->v[1]), "=&r"(a->v[2]), "=&r"(a->v[3])
            : "r"(init));
}

/**
 * @brief Widens `blocks` (>= 1) 4-byte groups from src into one pixel's slots of a 4-pixel
 *        patch (dst[0], dst[1], then 8 words further per block); returns the next dst.
 */
static inline uint32_t *fitml_dsp_widen_run(const int8_t *src, uint32_t *dst, int32_t blocks)
{
    const int8_t *const end = src + 4 * blocks;
    uint32_t t0, t1;
    __asm__ volatile("1:\n\t"
                     "ldr %[t0], [%[s]], #4\n\t"
                     "sxtb16 %[t1], %[t0]\n\t"
                     "sxtb16 %[t0], %[t0], ror #8\n\t"
                     "strd %[t1], %[t0], [%[d]], #32\n\t"
                     "cmp %[s], %[e]\n\t"
                     "bne 1b\n\t"
                     : [s] "+r"(src), [d] "+r"(dst), [t0] "=&r"(t0), [t1] "=&r"(t1)
                     : [e] "r"(end)
                     : "cc", "memory");
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

/* One 4-deep block: filter word at [w] (post-increment), 4 pixels' A/B words at [x]. */
#define FITML_DOT4_BLOCK                                                                       \
    "ldr %[t0], [%[w]], #4\n\t"                                                                \
    "ldmia %[x]!, {r4, r5, r6, r8}\n\t"                                                        \
    "sxtb16 %[t1], %[t0]\n\t"                                                                  \
    "sxtb16 %[t0], %[t0], ror #8\n\t"                                                          \
    "smlad %[a0], r4, %[t1], %[a0]\n\t"                                                        \
    "smlad %[a0], r5, %[t0], %[a0]\n\t"                                                        \
    "smlad %[a1], r6, %[t1], %[a1]\n\t"                                                        \
    "smlad %[a1], r8, %[t0], %[a1]\n\t"                                                        \
    "ldmia %[x]!, {r4, r5, r6, r8}\n\t"                                                        \
    "smlad %[a2], r4, %[t1], %[a2]\n\t"                                                        \
    "smlad %[a2], r5, %[t0], %[a2]\n\t"                                                        \
    "smlad %[a3], r6, %[t1], %[a3]\n\t"                                                        \
    "smlad %[a3], r8, %[t0], %[a3]\n\t"

#define FITML_DOT4_OPERANDS                                                                    \
    [a0] "+r"(a->v[0]), [a1] "+r"(a->v[1]), [a2] "+r"(a->v[2]), [a3] "+r"(a->v[3]),            \
    [w] "+r"(w), [x] "+r"(x), [t0] "=&r"(t0), [t1] "=&r"(t1)

/**
 * @brief a[j] += dot(filter bytes w[0 .. 4*blocks), pixel j's widened patch) for 4 pixels;
 *        returns w advanced past the bytes read (unaligned w is fine: single LDRs).
 */
static inline const int8_t *fitml_dsp_dot4(const int8_t *w, const uint32_t *x, int32_t blocks,
                                           fitml_acc4 *a)
{
    uint32_t t0, t1;
    if (blocks & 1) {
        __asm__ volatile(FITML_DOT4_BLOCK
                         : FITML_DOT4_OPERANDS
                         :
                         : "r4", "r5", "r6", "r8", "memory");
    }
    if (blocks >= 2) {
        const uint32_t *end = x + 8 * (blocks & ~1);
        __asm__ volatile("1:\n\t" FITML_DOT4_BLOCK FITML_DOT4_BLOCK
                         "cmp %[x], %[end]\n\t"
                         "bne 1b\n\t"
                         : FITML_DOT4_OPERANDS
                         : [end] "r"(end)
                         : "r4", "r5", "r6", "r8", "cc", "memory");
    }
    return w;
}

/** @brief Fast requantization of 4 accumulators, full int8 range (SSAT), stored at stride. */
static inline void fitml_dsp_store4_sat(const fitml_acc4 *a, int32_t dbl, const int32_t *rec,
                                        int8_t *out, int32_t stride)
{
    const int32_t m = rec[1], rnd = rec[2], e = rec[3];
    out[0] = (int8_t)__ssat(fitml_requant_fast((int32_t)((uint32_t)a->v[0] << dbl), m, rnd, e),
                            8);
    out[stride] = (int8_t)__ssat(
        fitml_requant_fast((int32_t)((uint32_t)a->v[1] << dbl), m, rnd, e), 8);
    out[2 * stride] = (int8_t)__ssat(
        fitml_requant_fast((int32_t)((uint32_t)a->v[2] << dbl), m, rnd, e), 8);
    out[3 * stride] = (int8_t)__ssat(
        fitml_requant_fast((int32_t)((uint32_t)a->v[3] << dbl), m, rnd, e), 8);
}

#endif /* FITML_DSP_H */
