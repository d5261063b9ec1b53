/**
 * @file fitml_dsp_s16.h
 * @brief Internal: pieces of the 16x8 DSP kernels (int16 activations, int8 weights). Not part
 *        of the public API.
 *
 * DSP builds get conv / FC filters whose rows are split into units (a conv row span or tap, an
 * FC row; toolchain/backends/cdsp.py s16_dsp_filter) and, inside each unit, blocks of 4
 * stored as (k0, k2, k1, k3); a unit's last len % 4 weights stay in order. So SXTB16 and
 * SXTB16 ROR 8 of a block's word give the int16 pairs (k0, k1), (k2, k3), which line up with
 * two int16 activations read as one word: a 4-deep block is 3 loads, 2 SXTB16, 2 SMLAD.
 *
 * Sums are int32 (SMLAD wraps): exact while a sum holds at most FITML_S16_CHUNK products
 * (|int16 * int8| <= 2^22), which is all TFLM's int32-accumulator path (acc32) needs anyway;
 * longer sums are flushed into int64 every FITML_S16_CHUNK products.
 */
#ifndef FITML_DSP_S16_H
#define FITML_DSP_S16_H

#include <string.h>

#include "fitml/fitml_support.h"

#if FITML_HAS_DSP
#define fitml_s16_sxtb16 fitml_sxtb16
#define fitml_s16_sxtb16_ror8 fitml_sxtb16_ror8
#define fitml_s16_smlad fitml_smlad
#else
/*
 * The same lane arithmetic in plain C: a DSP or MVE build compiled with FITML_PORTABLE_ONLY
 * still receives the DSP filter layout, so conv and FC keep this code rather than the
 * portable kernels.
 */
static inline uint32_t fitml_s16_lanes(int32_t lo, int32_t hi)
{
    return (uint32_t)(uint16_t)lo | ((uint32_t)(uint16_t)hi << 16);
}

static inline uint32_t fitml_s16_sxtb16(uint32_t x)
{
    return fitml_s16_lanes((int8_t)(x & 0xFFu), (int8_t)((x >> 16) & 0xFFu));
}

static inline uint32_t fitml_s16_sxtb16_ror8(uint32_t x)
{
    return fitml_s16_lanes((int8_t)((x >> 8) & 0xFFu), (int8_t)(x >> 24));
}

static inline int32_t fitml_s16_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const int32_t lo = (int16_t)(a & 0xFFFFu) * (int16_t)(b & 0xFFFFu);
    const int32_t hi = (int16_t)(a >> 16) * (int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}
#endif

/** Products per exact int32 partial sum: 511 * 2^22 < 2^31; a multiple of 4 keeps blocks. */
#define FITML_S16_CHUNK 508

/** @brief 4 bytes at p (any alignment: a single LDR on v7-M). */
static inline uint32_t fitml_s16_ld32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/** @brief Where weight j of a unit is stored: blocks below `full` are (k0, k2, k1, k3). */
static inline int32_t fitml_s16_pos(int32_t j, int32_t full)
{
    return j < full ? (j & ~3) | ((j & 1) << 1) | ((j >> 1) & 1) : j;
}

/**
 * @brief acc[r] += sum_{j0 <= j < j1} x[j - j0] * row_r[pos(j)] for rows wa (r = 0) and wb
 *        (r = 1; NULL for one row); full = the unit's length rounded down to 4.
 */
static inline void fitml_s16_dot(const int16_t *x, const int8_t *wa, const int8_t *wb,
                                 int32_t j0, int32_t j1, int32_t full, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], j = j0, n;
    const int32_t fast_end = j1 < full ? j1 : full;
    for (; j < j1 && (j & 3) != 0; j++) {               /* to a block boundary */
        const int32_t q = fitml_s16_pos(j, full), v = x[j - j0];
        a0 += v * wa[q];
        if (wb != NULL) {
            a1 += v * wb[q];
        }
    }
    n = fast_end > j ? (fast_end - j) >> 2 : 0;
    if (n > 0) {
        const int16_t *xp = x + (j - j0);
        const int8_t *pa = wa + j;
        j += 4 * n;
        if (wb != NULL) {
            const int8_t *pb = wb + j - 4 * n;
            do {
                const uint32_t x01 = fitml_s16_ld32(xp), x23 = fitml_s16_ld32(xp + 2);
                const uint32_t u = fitml_s16_ld32(pa), v = fitml_s16_ld32(pb);
                a0 = fitml_s16_smlad(x01, fitml_s16_sxtb16(u), a0);
                a0 = fitml_s16_smlad(x23, fitml_s16_sxtb16_ror8(u), a0);
                a1 = fitml_s16_smlad(x01, fitml_s16_sxtb16(v), a1);
                a1 = fitml_s16_smlad(x23, fitml_s16_sxtb16_ror8(v), a1);
                xp += 4, pa += 4, pb += 4;
            } while (--n);
        } else {
            do {
                const uint32_t u = fitml_s16_ld32(pa);
                a0 = fitml_s16_smlad(fitml_s16_ld32(xp), fitml_s16_sxtb16(u), a0);
                a0 = fitml_s16_smlad(fitml_s16_ld32(xp + 2), fitml_s16_sxtb16_ror8(u), a0);
                xp += 4, pa += 4;
            } while (--n);
        }
    }
    for (; j < j1; j++) {                               /* the unit's tail, or a clipped end */
        const int32_t q = fitml_s16_pos(j, full), v = x[j - j0];
        a0 += v * wa[q];
        if (wb != NULL) {
            a1 += v * wb[q];
        }
    }
    acc[0] = a0, acc[1] = a1;
}

/**
 * @brief acc[r] = sum_{j < len} x[j] * row_r[pos(j)] over one whole unit of `len` weights
 *        (rows wa, wb; wb NULL for one row): fitml_s16_dot without the block-boundary head
 *        and the position arithmetic, for conv's stack patch (one call per channel pair).
 */
static inline void fitml_s16_dot_unit(const int16_t *x, const int8_t *wa, const int8_t *wb,
                                      int32_t len, int32_t *acc)
{
    int32_t a0 = 0, a1 = 0, n = len >> 2, j;
    if (wb != NULL) {
        for (; n > 0; n--, x += 4, wa += 4, wb += 4) {
            const uint32_t x01 = fitml_s16_ld32(x), x23 = fitml_s16_ld32(x + 2);
            const uint32_t u = fitml_s16_ld32(wa), v = fitml_s16_ld32(wb);
            a0 = fitml_s16_smlad(x01, fitml_s16_sxtb16(u), a0);
            a0 = fitml_s16_smlad(x23, fitml_s16_sxtb16_ror8(u), a0);
            a1 = fitml_s16_smlad(x01, fitml_s16_sxtb16(v), a1);
            a1 = fitml_s16_smlad(x23, fitml_s16_sxtb16_ror8(v), a1);
        }
        for (j = 0; j < (len & 3); j++) {               /* the tail is stored in order */
            a0 += x[j] * wa[j];
            a1 += x[j] * wb[j];
        }
    } else {
        for (; n > 0; n--, x += 4, wa += 4) {
            const uint32_t u = fitml_s16_ld32(wa);
            a0 = fitml_s16_smlad(fitml_s16_ld32(x), fitml_s16_sxtb16(u), a0);
            a0 = fitml_s16_smlad(fitml_s16_ld32(x + 2), fitml_s16_sxtb16_ror8(u), a0);
        }
        for (j = 0; j < (len & 3); j++) {
            a0 += x[j] * wa[j];
        }
    }
    acc[0] = a0, acc[1] = a1;
}

/**
 * @brief fitml_s16_dot over any length: with `flush`, every FITML_S16_CHUNK products (and
 *        at the end) the int32 sums move into the int64 totals s[0..1].
 */
static inline void fitml_s16_dot_run(const int16_t *x, const int8_t *wa, const int8_t *wb,
                                     int32_t j0, int32_t j1, int32_t full, int32_t *acc,
                                     int32_t flush, int64_t *s)
{
    if (!flush) {
        fitml_s16_dot(x, wa, wb, j0, j1, full, acc);
        return;
    }
    while (j0 < j1) {
        const int32_t end = j1 - j0 > FITML_S16_CHUNK ? j0 + FITML_S16_CHUNK : j1;
        fitml_s16_dot(x, wa, wb, j0, end, full, acc);
        s[0] += acc[0], s[1] += acc[1];
        acc[0] = acc[1] = 0;
        x += end - j0;
        j0 = end;
    }
}

/**
 * @brief fitml_requant_s16 before the clamp, for a channel without a 32-bit record: rec =
 *        {shift, multiplier + E * 2^32}, E = -1 for the int64 accumulator, -2 for acc32. An
 *        int64-path sum that fits in int32 makes the product with the 16-bit reduced
 *        multiplier one SMULL (|x * m'| < 2^47, so fitml_mbqm64's uint64 sum cannot wrap).
 *        Out of line: the fast case inlines into the kernels' loops.
 */
__attribute__((noinline, unused)) static int32_t fitml_s16_slow(int64_t acc, const int64_t *rec)
{
    const int32_t m = (int32_t)(uint32_t)(uint64_t)rec[1], s = (int32_t)rec[0];
    if ((int32_t)(rec[1] >> 32) == -2) {
        return fitml_mbqm((int32_t)(uint32_t)(uint64_t)acc, m, s);
    }
    if (acc == (int64_t)(int32_t)acc) {
        const int32_t reduced = m < 0x7FFF0000 ? (m + (1 << 15)) >> 16 : 0x7FFF;
        const int32_t total = 15 - s;
        const int64_t sum = (int64_t)(int32_t)acc * reduced + ((int64_t)1 << (total - 1));
        return (int32_t)(uint32_t)(uint64_t)(sum >> total);
    }
    return fitml_mbqm64(acc, m, s);
}

/**
 * @brief High word of x * m + c: one SMLAL (in asm: inlined into the depthwise loop, gcc
 *        widened x and multiplied 64 x 64 bits, 6 instructions).
 */
static inline int32_t fitml_s16_high(int32_t x, int32_t m, int64_t c)
{
#if FITML_HAS_DSP
    uint32_t lo = (uint32_t)(uint64_t)c;
    int32_t hi = (int32_t)(c >> 32);
    __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(x), "r"(m));
    return hi;
#else
    return (int32_t)(((int64_t)x * m + c) >> 32);
#endif
}

/**
 * @brief Output channel oc of a 16x8 kernel from its exact sum (without bias): bit for bit
 *        fitml_requant_s16(sum + bias[oc], acc32, multiplier, shift, lo, hi).
 *
 * DSP/MVE builds append to the bias array (C_out values) one record per channel
 * (toolchain/ops/int16_lowering.py fast_records), {C, M + E * 2^32} with E >= 0 when the
 * channel has the int64 accumulator, |sum + bias| < 2^31 for every input and a shift in
 * [-32, -1]: the output is then clamp((int32)((sum * M + C) >> 32) >> E), one SMLAL, with
 * M = m' * 2^16 (m' the 16-bit reduced multiplier) and C = bias * M + 2^(30 - shift) (the
 * proof is in fast_records' docstring). Other channels: fitml_s16_slow.
 */
static inline int16_t fitml_s16_out(const int64_t *bias, int32_t channels, int32_t oc,
                                    int64_t sum, int32_t lo, int32_t hi)
{
    const int64_t *rec = bias + channels + 2 * oc;
    const int32_t e = (int32_t)(rec[1] >> 32);
    int32_t v;
    if (e >= 0) {
        v = fitml_s16_high((int32_t)sum, (int32_t)(uint32_t)(uint64_t)rec[1], rec[0]) >> e;
    } else {
        v = fitml_s16_slow(fitml_wrap_add64(sum, bias[oc]), rec);
    }
    return (int16_t)fitml_clamp(v, lo, hi);
}

/** @brief Valid taps [*k0, *k1) of a window starting at `base` (dilation d) in [0, size). */
static inline void fitml_s16_taps(int32_t base, int32_t d, int32_t k, int32_t size,
                                  int32_t *k0, int32_t *k1)
{
    int32_t lo = 0, hi = k;
    if (base < 0) {
        lo = d == 1 ? -base : (-base + d - 1) / d;
    }
    if (base + (k - 1) * d >= size) {
        hi = size - base <= 0 ? 0 : (d == 1 ? size - base : (size - base + d - 1) / d);
    }
    *k0 = lo < hi ? lo : hi;
    *k1 = hi;
}

#endif /* FITML_DSP_S16_H */
