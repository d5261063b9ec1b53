/**
 * @file fitml_fully_connected_s8.c
 * @brief int8 FULLY_CONNECTED for the Cortex-M DSP extension: 4 output rows per pass.
 *
 * Python packs, per 4 rows, one int16 stream (cdsp.fc_dsp_layout): the doubled
 * accumulator inits, the doubled weights pre-widened in SXTB16 lane order, and the fast
 * requantization records. Each 4 input bytes are widened once (LDR + 2 SXTB16) for 4 rows
 * (2 LDMs of weights, 8 SMLADs): 0.8 instructions per MAC on a batch-1 layer, where every
 * weight is used once. A fused activation range clamps the outputs afterwards
 * (fitml_dsp_clamp.h). Without filter_dsp (flash kept for other layers, or no proof of the
 * fast path) `filter` holds the int8 weights reordered for two rows per
 * word (fitml_dsp_fc8.h): 17 instructions per 16 MACs. Built without the DSP extension, plain
 * C walks the same layouts.
 */
#include <string.h>

#include "fitml/fitml_fully_connected.h"
#include "fitml/fitml_support.h"
#include "fitml_dsp_clamp.h"
#include "fitml_dsp_fc8.h"
#include "fitml_dsp_macs.h"
#include "fitml_dsp_records.h"

/* Output n of one batch row from its dot product: the fast record rec when it applies (a
 * layer-wide one for per-tensor requantization, else built per row), else exact MBQM. */
static inline int8_t fc8_out(const fitml_fully_connected_s8_params *p, const int32_t *rec,
                             int32_t n, int32_t dot)
{
    const int32_t acc = fitml_wrap_add(dot, p->bias[n]);
    const int32_t q = p->requant.per_channel ? n : 0;
#if FITML_HAS_DSP
    int32_t own[3];
    if ((uint32_t)acc + (1u << 30) < (1u << 31)) {
        if (rec == NULL && fitml_dsp_record(p->requant.multiplier[q], p->requant.shift[q],
                                            p->output_zp, fitml_dsp_abs(acc), own)) {
            rec = own;
        }
        if (rec != NULL) {
            return (int8_t)fitml_clamp(fitml_requant_fast((int32_t)((uint32_t)acc << 1),
                                                          rec[0], rec[1], rec[2]),
                                       p->act_min, p->act_max);
        }
    }
#else
    (void)rec;
#endif
    return fitml_requant_s8(acc, p->requant.multiplier[q], p->requant.shift[q], p->output_zp,
                            p->act_min, p->act_max);
}

/* Rows r0 .. r1 - 1 of one batch row through the C glue (any clamp, record or K). */
static const int8_t *fc8_rows(const fitml_fully_connected_s8_params *p, const int32_t *rec,
                              const int8_t *w, const int8_t *x, uint32_t sum128, int32_t r0,
                              int32_t r1, int8_t *out)
{
    const int32_t k = p->input_size;
    int32_t r, rows;
    for (; r0 < r1; r0 += rows) {
        int32_t dots[4];
        rows = r1 - r0 >= 4 ? 4 : r1 - r0 >= 2 ? 2 : 1;
        fc8_dot(w, rows, x, k, sum128, dots);
        w += (size_t)rows * k;
        for (r = 0; r < rows; r++) {
            out[r0 + r] = fc8_out(p, rec, r0 + r, dots[r]);
        }
    }
    return w;
}

/* The reordered-int8 path (filter from cdsp.fc_int8_filter): quads, a pair, a single row. */
static fitml_status fc8_run(const fitml_fully_connected_s8_params *p, const int8_t *input,
                            int8_t *output)
{
    const int32_t k = p->input_size, n = p->output_size;
    int32_t b, layer[3];
    const int32_t *rec = NULL;
    if (!p->requant.per_channel && fitml_dsp_record(p->requant.multiplier[0],
                                                     p->requant.shift[0], p->output_zp,
                                                     (1u << 30) - 1u, layer)) {
        rec = layer;        /* exact for every |acc| < 2^30 */
    }
    for (b = 0; b < p->batches; b++, output += n) {
        const int8_t *x = input + (size_t)b * k;
        const int8_t *w = p->filter;
        const uint32_t sum128 = fc8_sum128(x, k);
        int32_t done = 0;
#if FITML_HAS_DSP
        if (rec != NULL && k % 4 == 0 && k > 0 && n >= 4) {
            fc8_run_ctx ctx;
            ctx.x0 = x;
            ctx.xend = x + k;
            ctx.bias = p->bias;
            ctx.out = output;
            ctx.quads = n / 4;
            ctx.sum128 = sum128;
            memcpy(ctx.rec, rec, sizeof ctx.rec);
            while (ctx.quads > 0) {
                w = fc8_quads(w, &ctx);
                if (ctx.quads > 0) {        /* a saturated quad: exactly, then go on */
                    const int32_t r0 = 4 * (n / 4 - ctx.quads);
                    fc8_rows(p, NULL, w - 4 * k, x, sum128, r0, r0 + 4, output);
                    ctx.bias += 4;
                    ctx.out += 4;
                    ctx.quads--;
                }
            }
            done = n / 4 * 4;
            fitml_dsp_clamp_s8(output, (size_t)done, p->act_min, p->act_max);
        }
#endif
        fc8_rows(p, rec, w, x, sum128, done, n, output);
    }
    return FITML_OK;
}

/* Arguments of the reordered-int8 path. */
static int fc8_args_ok(const fitml_fully_connected_s8_params *p, const int8_t *input,
                       const int8_t *output)
{
    return p != NULL && p->filter_dsp == NULL && input != NULL && output != NULL
           && p->filter != NULL && p->bias != NULL && p->requant.multiplier != NULL
           && p->requant.shift != NULL && p->batches >= 0 && p->input_size >= 0
           && p->output_size >= 0;
}

#if !FITML_HAS_DSP
static int32_t layout_word(const int16_t *w)
{
    return (int32_t)((uint32_t)(uint16_t)w[0] | ((uint32_t)(uint16_t)w[1] << 16));
}

/*
 * A build of DSP-lowered code without the DSP extension (host unit tests, -DFITML_PORTABLE_ONLY):
 * the same arithmetic over the same layout in plain C. An FC with a layout carries no int8
 * filter (the lowering leaves it out), so the layout is all there is to read.
 */
fitml_status fitml_fully_connected_s8(const fitml_fully_connected_s8_params *p,
                                      const int8_t *input, int8_t *output)
{
    int32_t b, g, r, j, k, groups, blocks;
    if (fc8_args_ok(p, input, output)) {
        return fc8_run(p, input, output);
    }
    if (p == NULL || p->filter_dsp == NULL || input == NULL || output == NULL
        || p->batches < 0 || p->input_size < 0 || p->output_size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    k = p->input_size;
    groups = (p->output_size + 3) / 4;
    blocks = (k + 3) / 4;
    for (b = 0; b < p->batches; b++) {
        const int8_t *x = input + (size_t)b * k;
        const int16_t *w = p->filter_dsp;
        for (g = 0; g < groups; g++) {
            int32_t acc[4];
            for (r = 0; r < 4; r++) {
                acc[r] = layout_word(w + 2 * r);
            }
            w += 8;
            for (j = 0; j < blocks; j++, w += 16) {
                int32_t xs[4], i;
                for (i = 0; i < 4; i++) {
                    xs[i] = 4 * j + i < k ? x[4 * j + i] : 0;
                }
                for (r = 0; r < 4; r++) {      /* taps in SXTB16 lane order (k0, k2, k1, k3) */
                    const int16_t *t = w + 4 * r;
                    acc[r] += xs[0] * t[0] + xs[2] * t[1] + xs[1] * t[2] + xs[3] * t[3];
                }
            }
            for (r = 0; r < 4; r++, w += 6) {  /* {m, round, e}: SMMLAR, sign fix, shift */
                const int32_t m = layout_word(w), rnd = layout_word(w + 2);
                const int32_t e = layout_word(w + 4);
                const int64_t prod = ((int64_t)rnd * 4294967296LL) + (int64_t)acc[r] * m
                                     + 2147483648LL;
                const int32_t hi = (int32_t)(prod >> 32) + (acc[r] < 0 ? -1 : 0);
                const int32_t v = fitml_clamp(fitml_clamp(hi >> e, -128, 127), p->act_min,
                                              p->act_max);
                if (4 * g + r < p->output_size) {
                    output[(size_t)b * p->output_size + 4 * g + r] = (int8_t)v;
                }
            }
        }
    }
    return FITML_OK;
}
#else

/* One 4-deep block: 4 input bytes in r4 -> lanes r5 = (x0, x2), r4 = (x1, x3), 4 rows. */
#define FC_BLOCK(LOAD)                                                                         \
    LOAD                                                                                       \
    "sxtb16 r5, r4\n\t"                                                                        \
    "sxtb16 r4, r4, ror #8\n\t" FITML_DSP_MAC_4ROWS("r5", "r4")

/* Doubled accumulator A -> int8 in A; M, R, E hold {m, round, shift}. */
#define FC_RQ(A, M, R, E) FITML_DSP_REQUANT(A, M, M, R, E, "8")

/*
 * `groups` passes of 4 rows over one input row x (full 4-byte blocks up to xend, then the
 * zero-extended tail word when there is one); 4 outputs stored per pass at out.
 */
static void fc_groups(const int16_t *w, int32_t groups, const int8_t *x, const int8_t *xend,
                      uint32_t tail, int32_t has_tail, int8_t *out)
{
    const int8_t *xp;
    const int8_t *const x0 = x;
    int32_t left = groups;
    __asm__ volatile(
        "0:\n\t"
        "ldmia %[w]!, {r0, r1, r2, r3}\n\t"
        "ldr %[xp], %[x0]\n\t"
        "cmp %[xp], %[xend]\n\t"
        "beq 3f\n\t"
        "sub r4, %[xend], %[xp]\n\t"
        "tst r4, #4\n\t"
        "bne 2f\n\t"
        "1:\n\t" FC_BLOCK("ldr r4, [%[xp]], #4\n\t")
        "2:\n\t" FC_BLOCK("ldr r4, [%[xp]], #4\n\t")
        "cmp %[xp], %[xend]\n\t"
        "bne 1b\n\t"
        "3:\n\t"
        "ldr r4, %[has_tail]\n\t"
        "cmp r4, #0\n\t"
        "beq 4f\n\t"
        FC_BLOCK("ldr r4, %[tail]\n\t")
        "4:\n\t"
        "ldmia %[w]!, {r4, r5, r8, r9, r10, r11}\n\t"
        FC_RQ("r0", "r4", "r5", "r8") FC_RQ("r1", "r9", "r10", "r11")
        "ldmia %[w]!, {r4, r5, r8, r9, r10, r11}\n\t"
        FC_RQ("r2", "r4", "r5", "r8") FC_RQ("r3", "r9", "r10", "r11")
        "bfi r0, r1, #8, #8\n\t"
        "bfi r0, r2, #16, #8\n\t"
        "bfi r0, r3, #24, #8\n\t"
        "ldr r4, %[out]\n\t"
        "str r0, [r4], #4\n\t"
        "str r4, %[out]\n\t"
        "ldr r4, %[left]\n\t"
        "subs r4, r4, #1\n\t"
        "str r4, %[left]\n\t"
        "bne 0b\n\t"
        : [w] "+r"(w), [xp] "=&r"(xp), [out] "+m"(out), [left] "+m"(left)
        : [x0] "m"(x0), [xend] "r"(xend), [tail] "m"(tail), [has_tail] "m"(has_tail)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r8", "r9", "r10", "r11", "cc", "memory");
}

fitml_status fitml_fully_connected_s8(const fitml_fully_connected_s8_params *p,
                                      const int8_t *input, int8_t *output)
{
    int32_t b, k, n, full, rest, step;
    if (fc8_args_ok(p, input, output)) {
        return fc8_run(p, input, output);
    }
    if (p == NULL || p->filter_dsp == NULL || input == NULL || output == NULL
        || p->batches < 0 || p->input_size < 0 || p->output_size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    k = p->input_size;
    n = p->output_size;
    full = n / 4;
    rest = n % 4;
    step = 8 + 16 * ((k + 3) / 4) + 24;     /* int16 per 4-row group */
    for (b = 0; b < p->batches; b++) {
        const int8_t *x = input + (size_t)b * k;
        const int8_t *xend = x + (k & ~3);
        uint32_t tail = 0;
        int8_t *out = output + (size_t)b * n;
        int32_t i;
        for (i = 0; i < (k & 3); i++) {
            tail |= (uint32_t)(uint8_t)xend[i] << (8 * i);
        }
        if (full > 0) {
            fc_groups(p->filter_dsp, full, x, xend, tail, k & 3, out);
        }
        if (rest > 0) {          /* the last rows, through a 4-byte buffer */
            int8_t last[4];
            fc_groups(p->filter_dsp + (size_t)full * step, 1, x, xend, tail, k & 3, last);
            memcpy(out + 4 * full, last, (size_t)rest);
        }
        fitml_dsp_clamp_s8(out, (size_t)n, p->act_min, p->act_max);
    }
    return FITML_OK;
}
#endif /* FITML_HAS_DSP */
