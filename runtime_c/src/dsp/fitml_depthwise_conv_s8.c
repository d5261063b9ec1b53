/**
 * @file fitml_depthwise_conv_s8.c
 * @brief int8 DEPTHWISE_CONV_2D 3x3 for the Cortex-M DSP extension: 4 channels per pass.
 *
 * For each output row, the 3 input rows it reads are copied into scratch with input_zp
 * padding (the folded bias cancels it), so every pixel sees a full 3x3 window. A pass reads
 * one word (4 channels) per tap, widens it with SXTB16 and multiplies the lanes with
 * SMLABB/SMLATT by pre-widened taps; one LDM loads the 4 accumulator inits. Python packs, per
 * 4 channels, {inits, taps, requantization records} into filter_dsp so one pointer walks it
 * (toolchain/backends/cparams.py depthwise_dsp_layout). Other shapes, and layers without the
 * fast requantization, take the portable path.
 */
#include <string.h>

#include "fitml/fitml_conv.h"
#include "fitml/fitml_support.h"

#if !FITML_HAS_DSP
#include "../portable/fitml_depthwise_conv_s8.c"
#else

/* The portable kernel, renamed, for the shapes above (it also provides the scratch size). */
fitml_status fitml_depthwise_conv_s8_portable(const fitml_depthwise_conv_s8_params *p,
                                              const int8_t *input, int8_t *output,
                                              void *scratch);
#define fitml_depthwise_conv_s8 fitml_depthwise_conv_s8_portable
#include "../portable/fitml_depthwise_conv_s8.c"
#undef fitml_depthwise_conv_s8

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
 * rows (row pitch `pitch` bytes); out = its first output byte; w walks filter_dsp.
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

/* The 3 input rows of output row oy, padded with zp, into rows (pitch = width * C bytes). */
static void copy_rows(const fitml_depthwise_conv_s8_params *p, const int8_t *image, int32_t oy,
                      int8_t *rows, int32_t width)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t c = g->input.c, pitch = width * c;
    const int32_t k0 = fitml_clamp(g->pad_w, 0, width);
    const int32_t k1 = fitml_clamp(g->pad_w + g->input.w, k0, width);
    int32_t k;
    for (k = 0; k < 3; k++, rows += pitch) {
        const int32_t iy = oy * g->stride_h - g->pad_h + k;
        if (iy < 0 || iy >= g->input.h) {
            memset(rows, p->input_zp, (size_t)pitch);
            continue;
        }
        memset(rows, p->input_zp, (size_t)(k0 * c));
        memcpy(rows + k0 * c, image + ((size_t)iy * g->input.w + (size_t)(k0 - g->pad_w)) * c,
               (size_t)((k1 - k0) * c));
        memset(rows + k1 * c, p->input_zp, (size_t)((width - k1) * c));
    }
}

fitml_status fitml_depthwise_conv_s8(const fitml_depthwise_conv_s8_params *p,
                                     const int8_t *input, int8_t *output, void *scratch)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox, width, c;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (p->filter_dsp == NULL || !fitml_depthwise_dsp_ok(g, p->depth_multiplier)
        || g->input.c != g->output.c || g->output.c == 0) {
        return fitml_depthwise_conv_s8_portable(p, input, output, scratch);
    }
    if (scratch == NULL) {
        return FITML_ERR_SCRATCH;
    }
    c = g->output.c;
    width = fitml_depthwise_dsp_row_width(g);
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * c;
        int8_t *out = output + (size_t)b * g->output.h * g->output.w * c;
        for (oy = 0; oy < g->output.h; oy++) {
            copy_rows(p, image, oy, (int8_t *)scratch, width);
            for (ox = 0; ox < g->output.w; ox++, out += c) {
                const int8_t *px = (const int8_t *)scratch + (size_t)ox * g->stride_w * c;
                dw_pixel(px, px + c, c, width * c, p->filter_dsp, out);
            }
        }
    }
    return FITML_OK;
}
#endif /* FITML_HAS_DSP */
