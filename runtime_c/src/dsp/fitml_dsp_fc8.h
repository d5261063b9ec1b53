/**
 * @file fitml_dsp_fc8.h
 * @brief Internal: the int8 FULLY_CONNECTED of DSP builds without a pre-widened layout. Its
 *        filter is the int8 weights with the bytes reordered at compile time (same size,
 *        toolchain/lowering/cdsp.py fc_int8_filter), so each weight word feeds two rows.
 *
 * Rows go in quads (then one pair, then one single row). A pair (A, B) stores, per 4-deep
 * block k..k+3, two words: [B_k ^ 0x80, A_k, B_k+2 ^ 0x80, A_k+2] and the same for k+1, k+3.
 * Read as int16 lanes a word is (256 A + B + 128) for two depths; SXTB16 of it rotated by 8
 * gives (A_k, A_k+2). With the input widened in registers, X = (x_k, x_k+2):
 *   SMLAD(X, SXTB16(w ror 8)) adds A.x,   SMLAD(X, w) adds 256 A.x + B.x + 128 sum(x),
 * so one SXTB16 and two SMLADs do 4 MACs, and B.x = accR - 256 accA - 128 sum(x) (mod 2^32,
 * exact: TFLite's int32 sums wrap the same way). After the blocks each row of the group keeps
 * its last K % 4 weights in order; a single last row is in order throughout (SXTB16 lanes
 * (k, k+2), (k+1, k+3) match the widened input).
 */
#ifndef FITML_DSP_FC8_H
#define FITML_DSP_FC8_H

#include <string.h>

#include "fitml/fitml_support.h"

#if FITML_HAS_DSP
/* 4 input bytes at [x] -> r5 = (x0, x2), r4 = (x1, x3). */
#define FC8_X                                                                                  \
    "ldr r4, [%[x]], #4\n\t"                                                                   \
    "sxtb16 r5, r4\n\t"                                                                        \
    "sxtb16 r4, r4, ror #8\n\t"

/* One pair's block (two words from [w]) into accA, accR. */
#define FC8_PAIR(A, R)                                                                         \
    "ldrd r8, r9, [%[w]], #8\n\t"                                                              \
    "sxtb16 r10, r8, ror #8\n\t"                                                               \
    "smlad " A ", r5, r10, " A "\n\t"                                                          \
    "smlad " R ", r5, r8, " R "\n\t"                                                           \
    "sxtb16 r10, r9, ror #8\n\t"                                                               \
    "smlad " A ", r4, r10, " A "\n\t"                                                          \
    "smlad " R ", r4, r9, " R "\n\t"

/* One single row's block: one word from [w], in order. */
#define FC8_ONE                                                                                \
    "ldr r8, [%[w]], #4\n\t"                                                                   \
    "sxtb16 r9, r8\n\t"                                                                        \
    "sxtb16 r8, r8, ror #8\n\t"                                                                \
    "smlad r0, r5, r9, r0\n\t"                                                                 \
    "smlad r0, r4, r8, r0\n\t"

/*
 * Full blocks of x up to xend (at least one) against one group; dot[r] = the group's dot
 * products for a quad (4) or a pair (2): B.x = accR - 256 accA - sum128; a single row (1).
 * Returns w past the blocks.
 */
static const int8_t *fc8_blocks(const int8_t *w, int32_t rows, const int8_t *x,
                                const int8_t *xend, uint32_t sum128, int32_t *dot)
{
    if (rows == 4) {
        __asm__ volatile("mov r0, #0\n\tmov r1, #0\n\tmov r2, #0\n\tmov r3, #0\n\t"
                         "1:\n\t" FC8_X FC8_PAIR("r0", "r1") FC8_PAIR("r2", "r3")
                         "cmp %[x], %[e]\n\t"
                         "bne 1b\n\t"
                         "ldr r5, %[s]\n\t"
                         "ldr r4, %[dot]\n\t"
                         "sub r1, r1, r0, lsl #8\n\t"
                         "sub r3, r3, r2, lsl #8\n\t"
                         "sub r1, r1, r5\n\t"
                         "sub r3, r3, r5\n\t"
                         "stmia r4, {r0, r1, r2, r3}\n\t"
                         : [w] "+r"(w), [x] "+r"(x)
                         : [e] "r"(xend), [dot] "m"(dot), [s] "m"(sum128)
                         : "r0", "r1", "r2", "r3", "r4", "r5", "r8", "r9", "r10", "cc",
                           "memory");
    } else if (rows == 2) {
        __asm__ volatile("mov r0, #0\n\tmov r1, #0\n\t"
                         "1:\n\t" FC8_X FC8_PAIR("r0", "r1")
                         "cmp %[x], %[e]\n\t"
                         "bne 1b\n\t"
                         "ldr r5, %[s]\n\t"
                         "ldr r4, %[dot]\n\t"
                         "sub r1, r1, r0, lsl #8\n\t"
                         "sub r1, r1, r5\n\t"
                         "stmia r4, {r0, r1}\n\t"
                         : [w] "+r"(w), [x] "+r"(x)
                         : [e] "r"(xend), [dot] "m"(dot), [s] "m"(sum128)
                         : "r0", "r1", "r4", "r5", "r8", "r9", "r10", "cc", "memory");
    } else {
        __asm__ volatile("mov r0, #0\n\t"
                         "1:\n\t" FC8_X FC8_ONE
                         "cmp %[x], %[e]\n\t"
                         "bne 1b\n\t"
                         "str r0, [%[dot]]\n\t"
                         : [w] "+r"(w), [x] "+r"(x)
                         : [e] "r"(xend), [dot] "r"(dot)
                         : "r0", "r4", "r5", "r8", "r9", "cc", "memory");
    }
    return w;
}

/* Doubled accumulator A -> int8 in A with record {m, round, e} in r4, r5, r8. */
#define FC8_RQ(A)                                                                              \
    "smmlar r9, " A ", r4, r5\n\t"                                                             \
    "add r9, r9, " A ", asr #31\n\t"                                                           \
    "asr r9, r9, r8\n\t"                                                                       \
    "ssat " A ", #8, r9\n\t"

/* What fc8_quads reads besides the filter (one struct: the asm has few registers left). */
typedef struct {
    const int8_t *x0, *xend;    /* the batch row, its last full block */
    const int32_t *bias;        /* folded bias of the first quad's rows, advanced */
    int8_t *out;                /* its outputs, advanced */
    int32_t quads;              /* quads left */
    uint32_t sum128;            /* 128 * sum of the full blocks' inputs */
    int32_t rec[3];             /* the layer's fast record {m, round, e} */
} fc8_run_ctx;

/*
 * Quads of rows (K % 4 == 0, the int8 range as clamp, a layer-wide record) straight to int8
 * outputs: blocks, the pairs' B.x, the bias, fast requantization; ctx advances per quad.
 * Returns w past the quads read. Stops after a quad whose doubled accumulator saturated
 * (|acc| >= 2^30) without storing it: ctx->quads > 0 then, and the caller redoes that quad
 * (the 4 rows before the returned w) exactly.
 */
static const int8_t *fc8_quads(const int8_t *w, fc8_run_ctx *ctx)
{
    const int8_t *x;
    const int8_t *const xend = ctx->xend;
    __asm__ volatile(
        "0:\n\t"
        "mov r0, #0\n\tmov r1, #0\n\tmov r2, #0\n\tmov r3, #0\n\t"
        "ldr %[x], [%[c], #0]\n\t"
        "sub r4, %[e], %[x]\n\t"
        "tst r4, #4\n\t"                        /* an odd number of blocks: enter at 2 */
        "bne 2f\n\t"
        "1:\n\t" FC8_X FC8_PAIR("r0", "r1") FC8_PAIR("r2", "r3")
        "2:\n\t" FC8_X FC8_PAIR("r0", "r1") FC8_PAIR("r2", "r3")
        "cmp %[x], %[e]\n\t"
        "bne 1b\n\t"
        "ldr r5, [%[c], #20]\n\t"               /* sum128 */
        "sub r1, r1, r0, lsl #8\n\t"
        "sub r3, r3, r2, lsl #8\n\t"
        "sub r1, r1, r5\n\t"
        "sub r3, r3, r5\n\t"
        "mov r9, #0\n\t"
        "msr apsr_nzcvq, r9\n\t"              /* Q = 0 (SMLAD set it on wrapping) */
        "ldr r10, [%[c], #8]\n\t"               /* bias */
        "ldmia r10!, {r4, r5, r8, r9}\n\t"
        "add r0, r0, r4\n\t"
        "add r1, r1, r5\n\t"
        "add r2, r2, r8\n\t"
        "add r3, r3, r9\n\t"
        "qadd r0, r0, r0\n\t"                   /* doubled; Q if |acc| >= 2^30 */
        "qadd r1, r1, r1\n\t"
        "qadd r2, r2, r2\n\t"
        "qadd r3, r3, r3\n\t"
        "mrs r9, apsr\n\t"
        "tst r9, #0x08000000\n\t"
        "bne 3f\n\t"
        "add r4, %[c], #24\n\t"
        "ldmia r4, {r4, r5, r8}\n\t"            /* m, round, e */
        FC8_RQ("r0") FC8_RQ("r1") FC8_RQ("r2") FC8_RQ("r3")
        "str r10, [%[c], #8]\n\t"
        "bfi r0, r1, #8, #8\n\t"
        "bfi r0, r2, #16, #8\n\t"
        "bfi r0, r3, #24, #8\n\t"
        "ldr r4, [%[c], #12]\n\t"
        "str r0, [r4], #4\n\t"
        "str r4, [%[c], #12]\n\t"
        "ldr r4, [%[c], #16]\n\t"
        "subs r4, r4, #1\n\t"
        "str r4, [%[c], #16]\n\t"
        "bne 0b\n\t"
        "3:\n\t"
        : [w] "+r"(w), [x] "=&r"(x)
        : [c] "r"(ctx), [e] "r"(xend)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r8", "r9", "r10", "cc", "memory");
    return w;
}

/* The group's dot products into out[0 .. rows) given sum128 = 128 * (sum of x's full blocks). */
static inline void fc8_dot(const int8_t *w, int32_t rows, const int8_t *x, int32_t k,
                           uint32_t sum128, int32_t *out)
{
    const int32_t blocks = k / 4, tail = k % 4;
    int32_t r, i;
    out[0] = out[1] = out[2] = out[3] = 0;
    if (blocks > 0) {
        w = fc8_blocks(w, rows, x, x + 4 * blocks, sum128, out);
    }
    for (i = 0; i < tail; i++) {
        for (r = 0; r < rows; r++) {
            out[r] = (int32_t)((uint32_t)out[r]
                               + (uint32_t)((int32_t)w[r * tail + i] * x[4 * blocks + i]));
        }
    }
}
#else
/* The plain-C reading of the layout: out[r] = dot(row r of the group at w, x) for the
 * group's `rows` rows (4, 2 or 1) over k inputs (full blocks, then each row's tail). */
static void fc8_dot_c(const int8_t *w, int32_t rows, const int8_t *x, int32_t k, int32_t *out)
{
    const int32_t blocks = k / 4, tail = k % 4;
    int32_t r, j, i;
    for (r = 0; r < rows; r++) {
        uint32_t acc = 0u;
        for (j = 0; j < blocks; j++) {
            for (i = 0; i < 4; i++) {
                int32_t v;
                if (rows == 1) {
                    v = w[4 * j + i];
                } else {        /* word (i & 1) of pair r / 2, byte 2 * (i >> 1) + (r is A) */
                    const int8_t *word = w + 4 * rows * j + 8 * (r / 2) + 4 * (i & 1);
                    const int32_t byte = 2 * (i >> 1);
                    v = (r & 1) ? (int8_t)((uint8_t)word[byte] ^ 0x80u) : word[byte + 1];
                }
                acc += (uint32_t)(v * (int32_t)x[4 * j + i]);
            }
        }
        for (i = 0; i < tail; i++) {
            acc += (uint32_t)((int32_t)w[4 * rows * blocks + r * tail + i] * x[4 * blocks + i]);
        }
        out[r] = (int32_t)acc;
    }
}

static void fc8_dot(const int8_t *w, int32_t rows, const int8_t *x, int32_t k, uint32_t sum128,
                    int32_t *out)
{
    (void)sum128;
    fc8_dot_c(w, rows, x, k, out);
}
#endif /* FITML_HAS_DSP */

/* 128 * the sum of x[0 .. 4 * (k / 4)) (the quads' and pairs' correction), mod 2^32. */
static uint32_t fc8_sum128(const int8_t *x, int32_t k)
{
    const int32_t n = k / 4;
    uint32_t s = 0u;
    int32_t i;
#if FITML_HAS_DSP
    for (i = 0; i < n; i++) {        /* sum (x + 128) as unsigned bytes, 4 at a time */
        uint32_t v;
        memcpy(&v, x + 4 * i, 4);
        s = __usada8(v ^ 0x80808080u, 0u, s);
    }
    s -= 512u * (uint32_t)n;
#else
    for (i = 0; i < 4 * n; i++) {
        s += (uint32_t)(int32_t)x[i];
    }
#endif
    return s << 7;
}

#endif /* FITML_DSP_FC8_H */
