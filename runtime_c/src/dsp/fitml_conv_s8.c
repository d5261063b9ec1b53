/**
 * @file fitml_conv_s8.c
 * @brief int8 CONV_2D for the Cortex-M DSP extension: im2col into widened int16 lanes, SMLAD.
 *
 * The receptive fields of 4 output pixels are gathered into scratch already widened to int16
 * lanes in SXTB16 order and interleaved by 4-deep blocks (fitml_dsp.h). Two paths:
 * - int16 (filter_dsp from Python, small depths): per pixel, 4 channels per pass from a
 *   pre-widened, doubled filter, 0.69 instructions per MAC in the inner loop;
 * - int8 (the portable [C_out][KH][KW][C_in] filter as is, any depth): per channel, 4 pixels
 *   per pass (fitml_dsp_conv8.h); 4 filter bytes cost one LDR and two SXTB16 for 16 MACs
 *   (0.81 per MAC).
 * Both requantize with the proven-exact fast records (fast_requant) and SSAT; a fused
 * activation range (RELU6, RELU) then clamps the outputs (fitml_dsp_clamp.h). Padded taps
 * hold input_zp; the folded bias cancels them. Grouped convolutions and layers without fast
 * records take the portable kernel. A layer with the int16 layout has no
 * int8 filter (the lowering leaves it out); built without the DSP extension, plain C walks
 * the layout (fitml_dsp_conv16_c.h).
 */
#include <string.h>

#include "fitml/fitml_conv.h"
#include "fitml_dsp_macs.h"
#include "fitml/fitml_support.h"

#if !FITML_HAS_DSP
#include "fitml_dsp_conv16_c.h"
#else
#include "fitml_dsp.h"
#include "fitml_dsp_clamp.h"
#include "fitml_dsp_conv8.h"

/* The portable kernel, renamed, for grouped convolutions (it also provides the scratch size). */
fitml_status fitml_conv_s8_portable(const fitml_conv_s8_params *p, const int8_t *input,
                                    int8_t *output, void *scratch);
#define fitml_conv_s8 fitml_conv_s8_portable
#include "../portable/fitml_conv_s8.c"
#undef fitml_conv_s8

/* What the gathers need, computed once per call. */
typedef struct {
    const int8_t *image;            /* batch item */
    int8_t *patch;                  /* int8 im2col (edges, C_in % 4 != 0) */
    int32_t c, kh, kw, span, row;   /* C_in, filter, KW * C_in, W * C_in */
    int32_t depth, d4, d8;          /* KH * KW * C_in, rounded up to 4 and to 8 */
    int32_t h, w, sh, sw, ph, pw, dh, dw;
    int32_t zp;
} conv_ctx;

/* Any output's patch, padding included: int8 im2col into k->patch, then widened. */
__attribute__((noinline)) static void gather_edge(const conv_ctx *k, int32_t iy0, int32_t ix0,
                                                  uint32_t *dst)
{
    const int32_t c = k->c;
    int8_t *col = k->patch;
    int32_t ky, kx;
    for (ky = 0; ky < k->kh; ky++) {
        const int32_t iy = iy0 + ky * k->dh;
        const int8_t *src;
        if (iy < 0 || iy >= k->h) {
            memset(col, k->zp, (size_t)k->span);
            col += k->span;
            continue;
        }
        src = k->image + (size_t)iy * k->row;
        if (k->dw == 1) {             /* padding, the taps inside, padding */
            const int32_t k0 = fitml_clamp(-ix0, 0, k->kw);
            const int32_t k1 = fitml_clamp(k->w - ix0, k0, k->kw);
            memset(col, k->zp, (size_t)(k0 * c));
            if (k1 > k0) {
                memcpy(col + k0 * c, src + (ix0 + k0) * c, (size_t)((k1 - k0) * c));
            }
            memset(col + k1 * c, k->zp, (size_t)((k->kw - k1) * c));
            col += k->span;
        } else {
            for (kx = 0; kx < k->kw; kx++, col += c) {
                const int32_t ix = ix0 + kx * k->dw;
                if (ix < 0 || ix >= k->w) {
                    memset(col, k->zp, (size_t)c);
                } else {
                    memcpy(col, src + (size_t)ix * c, (size_t)c);
                }
            }
        }
    }
    memset(col, 0, (size_t)(k->d4 - k->depth));
    fitml_dsp_widen_run(k->patch, dst, k->d4 >> 2);
}

/*
 * Output (oy, ox)'s widened patch into one pixel's slots at dst. A window inside the image
 * (no dilation) is KH spans of KW * C_in input bytes: widened straight from the input when
 * C_in % 4 == 0 (blocks never straddle taps), else copied into the int8 patch first.
 */
static void gather(const conv_ctx *k, int32_t oy, int32_t ox, uint32_t *dst)
{
    const int32_t iy0 = oy * k->sh - k->ph, ix0 = ox * k->sw - k->pw;
    const int8_t *src = k->image + (size_t)(iy0 < 0 ? 0 : iy0) * k->row
                        + (ix0 < 0 ? 0 : ix0) * k->c;
    int32_t ky;
    if (k->dh != 1 || k->dw != 1 || iy0 < 0 || iy0 + k->kh > k->h || ix0 < 0
        || ix0 + k->kw > k->w) {
        gather_edge(k, iy0, ix0, dst);
    } else if (k->c % 4 == 0) {
        for (ky = 0; ky < k->kh; ky++, src += k->row) {
            dst = fitml_dsp_widen_run(src, dst, k->span >> 2);
        }
    } else {
        int8_t *col = k->patch;
        for (ky = 0; ky < k->kh; ky++, src += k->row, col += k->span) {
            fitml_dsp_copy(col, src, k->span);
        }
        fitml_dsp_fill(col, 0, k->d4 - k->depth);
        fitml_dsp_widen_run(k->patch, dst, k->d4 >> 2);
    }
}

/*
 * int8 path: every channel of 4 gathered pixels (conv8_pass), an even number of 4-deep blocks
 * (depth8 / 4: a zero block ends the patches when depth4 / 4 is odd). When the depth is not a
 * multiple of 8, a row's last blocks read into the next row (against zero lanes), so the last
 * row, which has no next row inside the filter, is copied into the free int8 patch first.
 */
static void conv8_channels(const conv_ctx *k, const int8_t *w, const uint32_t *xs,
                           const int32_t *rec, int32_t cout, int8_t *out)
{
    const int32_t blocks = k->d8 >> 2, full = k->d8 == k->depth ? cout : cout - 1;
    if (full > 0) {
        w = conv8_pass(w, k->depth, xs, blocks, rec, full, out, cout);
    }
    if (full < cout) {
        memcpy(k->patch, w, (size_t)k->depth);
        memset(k->patch + k->depth, 0, (size_t)(k->d8 - k->depth));
        conv8_pass(k->patch, k->depth, xs, blocks, rec + FITML_FAST_REQUANT * full, 1, out + full,
                   cout);
    }
}

/*
 * int16 path (filter_dsp, see toolchain/backends/cdsp.py conv_dsp_layout): one pixel, 4
 * channels per pass, both operands pre-widened, so a 4-deep block is one LDRD of the patch,
 * two LDMs of the filter and 8 SMLADs (0.69 instructions per MAC). Accumulators r0-r3 start
 * from the records' 4 inits (one LDM); the 4 results are packed into one word store.
 */
#define CONV16_BLOCK "ldrd r4, r5, [%[x]], #32\n\t" FITML_DSP_MAC_4ROWS("r4", "r5")

/* acc A (doubled) -> int8 in A, with {m, round, shift} in registers M, R, E. */
#define CONV16_RQ(A, M, R, E) FITML_DSP_REQUANT(A, M, M, R, E, "8")

/* All channel groups of one pixel whose widened patch starts at x0 (blocks 32 bytes apart). */
static void conv16_pixel(const int16_t *w, const int16_t *wend, const uint32_t *x0,
                         int32_t blocks, const int32_t *rec, int8_t *out)
{
    const uint32_t *x;
    const uint32_t *const xend = x0 + 8 * blocks;
    __asm__ volatile(
        "0:\n\t"
        "ldr r4, %[rec]\n\t"
        "ldmia r4!, {r0, r1, r2, r3}\n\t"
        "str r4, %[rec]\n\t"
        "ldr %[x], %[x0]\n\t"
        "sub r4, %[xend], %[x]\n\t"
        "tst r4, #32\n\t"
        "bne 2f\n\t"
        "1:\n\t" CONV16_BLOCK
        "2:\n\t" CONV16_BLOCK
        "cmp %[x], %[xend]\n\t"
        "bne 1b\n\t"
        "ldr %[x], %[rec]\n\t"
        "ldmia %[x]!, {r4, r5, r8, r9, r10, r11}\n\t"
        CONV16_RQ("r0", "r4", "r5", "r8") CONV16_RQ("r1", "r9", "r10", "r11")
        "ldmia %[x]!, {r4, r5, r8, r9, r10, r11}\n\t"
        CONV16_RQ("r2", "r4", "r5", "r8") CONV16_RQ("r3", "r9", "r10", "r11")
        "str %[x], %[rec]\n\t"
        "bfi r0, r1, #8, #8\n\t"
        "bfi r0, r2, #16, #8\n\t"
        "bfi r0, r3, #24, #8\n\t"
        "ldr %[x], %[out]\n\t"
        "str r0, [%[x]], #4\n\t"
        "str %[x], %[out]\n\t"
        "ldr r4, %[wend]\n\t"
        "cmp %[w], r4\n\t"
        "bne 0b\n\t"
        : [w] "+r"(w), [x] "=&r"(x), [rec] "+m"(rec), [out] "+m"(out)
        : [x0] "m"(x0), [xend] "r"(xend), [wend] "m"(wend)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r8", "r9", "r10", "r11", "cc", "memory");
}

fitml_status fitml_conv_s8(const fitml_conv_s8_params *p, const int8_t *input, int8_t *output,
                           void *scratch)
{
    const fitml_conv_geom *g;
    uint32_t *xs = (uint32_t *)scratch;
    int8_t *tmp;
    conv_ctx k;
    int32_t b, pix, npix, oy, ox, cout;
    if (p == NULL || input == NULL || output == NULL || p->bias == NULL
        || (p->filter == NULL && p->filter_dsp == NULL) || p->requant.multiplier == NULL
        || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    k.c = g->input.c, k.kh = g->filter.h, k.kw = g->filter.w;
    k.span = k.kw * k.c, k.row = g->input.w * k.c;
    k.depth = k.kh * k.span, k.d4 = fitml_conv_s8_depth4(g), k.d8 = fitml_conv_s8_depth8(g);
    if (!fitml_conv_s8_dsp_ok(g) || p->fast_requant == NULL) {
        /* (a layout, which stands alone, implies neither) */
        return p->filter == NULL ? FITML_ERR_ARGUMENT
                                 : fitml_conv_s8_portable(p, input, output, scratch);
    }
    if (g->filter.n != g->output.c) {
        return FITML_ERR_ARGUMENT;
    }
    if (xs == NULL) {
        return FITML_ERR_SCRATCH;
    }
    k.h = g->input.h, k.w = g->input.w, k.sh = g->stride_h, k.sw = g->stride_w;
    k.ph = g->pad_h, k.pw = g->pad_w, k.dh = g->dilation_h, k.dw = g->dilation_w;
    k.zp = p->input_zp;
    k.patch = (int8_t *)(xs + 2 * k.d8);                /* int8 patch (edges, C_in % 4) */
    tmp = k.patch + k.d8;                               /* outputs of a last, partial group */
    memset(xs + 2 * k.d4, 0, (size_t)(8 * (k.d8 - k.d4)));  /* the pairing zero block */
    cout = g->output.c;
    npix = g->output.h * g->output.w;
    for (b = 0; b < g->output.n; b++) {
        int8_t *out = output + (size_t)b * npix * cout;
        k.image = input + (size_t)b * g->input.h * k.row;
        oy = ox = 0;
        for (pix = 0; pix < npix; pix += 4, out += 4 * cout) {
            const int32_t n = npix - pix < 4 ? npix - pix : 4;
            int32_t j;
            for (j = 0; j < n; j++) {
                gather(&k, oy, ox, xs + 2 * j);
                if (++ox == g->output.w) {
                    ox = 0;
                    oy++;
                }
            }
            if (p->filter_dsp != NULL) {
                const int16_t *wend = p->filter_dsp + (size_t)cout * k.d4;
                for (j = 0; j < n; j++) {
                    conv16_pixel(p->filter_dsp, wend, xs + 2 * j, k.d4 >> 2, p->fast_requant,
                                 out + j * cout);
                }
            } else {
                conv8_channels(&k, p->filter, xs, p->fast_requant, cout, n == 4 ? out : tmp);
                if (n < 4) {
                    memcpy(out, tmp, (size_t)(n * cout));
                }
            }
        }
    }
    fitml_dsp_clamp_s8(output, (size_t)g->output.n * npix * cout, p->act_min, p->act_max);
    return FITML_OK;
}
#endif /* FITML_HAS_DSP */
