/**
 * @file fitml_depthwise_conv_s8.c
 * @brief int8 DEPTHWISE_CONV_2D 3x3 for the Cortex-M DSP extension: plain int8 filter.
 *
 * Per 4 channels the kernel builds, once per call, a block of doubled int16 taps and fast
 * requantization records (proven exact from the weights and bias at run time) in scratch,
 * then per pair of output rows widens the input rows those rows read (input_zp padding, the
 * folded bias cancels it) and walks the pixels: per tap one LDRD of input lanes, one LDRD of
 * taps and 4 SMLAxy (fitml_dsp_dw8.h). Channels go 32 at a time so the scratch stays small.
 * A fused activation range clamps the outputs afterwards (fitml_dsp_clamp.h). Other shapes
 * (not 3x3, depth multiplier, dilation, C % 4) and layers whose records cannot be proven take
 * the portable path.
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

#include "fitml_dsp_clamp.h"
#include "fitml_dsp_dw8.h"
#include "fitml_dsp_dw8_rows.h"

/* input_zp into the padding columns (left and right of the image) of the widened rows. */
static void dw8_pads(uint32_t zp, int32_t width, int32_t x0, int32_t x1, uint32_t *xs)
{
    int32_t px, k;
    for (px = 0; px < width; px++) {
        if (px == x0) {
            px = x1 - 1;
            continue;
        }
        for (k = 0; k < DW8_P / 4; k++) {
            xs[px * (DW8_P / 4) + k] = zp;
        }
    }
}

/* One pass: output rows oy (and oy + 1 when two) of every group of the chunk at c0. */
static void dw8_pass_rows(const fitml_conv_geom *g, const dw8_pass *s, int32_t two,
                          int32_t groups, const int32_t *blk, int8_t *out, uint32_t *xs)
{
    const int32_t tstep = g->stride_w * DW8_P, c = g->output.c;
    const int32_t skip = 2 * g->stride_h, span = g->output.w * tstep / 4;
    int32_t gi;
    for (gi = 0; gi < groups; gi++, blk += DW8_BLOCK, out += 4) {
        dw8_widen(s, 4 * gi);
        dw8_row(xs, xs + span, tstep, blk, out, c);
        if (two) {
            dw8_row(xs + skip, xs + skip + span, tstep, blk, out + g->output.w * c, c);
        }
    }
}

fitml_status fitml_depthwise_conv_s8(const fitml_depthwise_conv_s8_params *p,
                                     const int8_t *input, int8_t *output, void *scratch)
{
    const fitml_conv_geom *g;
    int32_t c0, c, width, b, oy, k, x0, x1, two = 0;
    int32_t *blk;
    uint32_t *xs;
    dw8_pass s;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    width = fitml_depthwise_dsp_row_width(g);
    x0 = fitml_clamp(g->pad_w, 0, width);
    x1 = fitml_clamp(g->pad_w + g->input.w, x0, width);
    if (!fitml_depthwise_dsp_ok(g, p->depth_multiplier) || g->input.c != g->output.c
        || g->output.c == 0 || g->filter.c != g->output.c || g->output.w == 0 || x1 <= x0) {
        return fitml_depthwise_conv_s8_portable(p, input, output, scratch);
    }
    if (scratch == NULL) {
        return FITML_ERR_SCRATCH;
    }
    c = g->output.c;
    blk = (int32_t *)scratch;
    xs = (uint32_t *)(blk + DW8_BLOCK * (fitml_depthwise_dsp_chunk(c) / 4));
    s.c = c;
    s.pitch = g->input.w * c;
    s.n = x1 - x0;
    s.zp = ((uint32_t)p->input_zp & 0xFFFFu) * 0x10001u;
    s.dst = xs + (size_t)x0 * (DW8_P / 4);
    dw8_pads(s.zp, width, x0, x1, xs);
    for (c0 = 0; c0 < c; c0 += FITML_DW_CHUNK) {
        const int32_t groups = (c - c0 < FITML_DW_CHUNK ? c - c0 : FITML_DW_CHUNK) / 4;
        if (!dw8_blocks(p, c0, groups, blk)) {
            return fitml_depthwise_conv_s8_portable(p, input, output, scratch);
        }
        for (b = 0; b < g->output.n; b++) {
            const int8_t *image = input + (size_t)b * g->input.h * s.pitch;
            for (oy = 0; oy < g->output.h; oy += 1 + two) {
                const int32_t iy0 = oy * g->stride_h - g->pad_h;
                two = g->stride_h <= 2 && oy + 1 < g->output.h;
                s.rows = two ? g->stride_h + 3 : 3;
                s.valid = 0u;
                for (k = 0; k < s.rows; k++) {
                    s.valid |= (uint32_t)(iy0 + k >= 0 && iy0 + k < g->input.h) << k;
                }
                s.src = image + (size_t)(x0 - g->pad_w) * c + c0 + (ptrdiff_t)iy0 * s.pitch;
                dw8_pass_rows(g, &s, two, groups, blk,
                              output + ((size_t)(b * g->output.h + oy) * g->output.w) * c + c0,
                              xs);
            }
        }
    }
    fitml_dsp_clamp_s8(output, (size_t)g->output.n * g->output.h * g->output.w * g->output.c,
                       p->act_min, p->act_max);
    return FITML_OK;
}
#endif /* FITML_HAS_DSP */
