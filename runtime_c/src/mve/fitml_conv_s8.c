/**
 * @file fitml_conv_s8.c
 * @brief int8 CONV_2D for Cortex-M55 (Helium): per output pixel, 4 channels per pass of
 *        16-lane int8 dot products (fitml_mve.h) over the int8 filter as stored.
 *
 * The receptive field is read in place (1x1, no padding) or gathered as int8 into scratch
 * (padded taps hold input_zp; the folded bias cancels them). Requantization uses the fast
 * records of the DSP kernels in either of their layouts, then the fused activation range;
 * layers without them and grouped convolutions take the portable kernel.
 */
#include <string.h>

#include "fitml/fitml_conv.h"
#include "fitml/fitml_support.h"

#if !FITML_HAS_MVE
#include "../dsp/fitml_conv_s8.c"
#else
#include "../dsp/fitml_dsp_clamp.h"
#include "fitml_mve.h"

fitml_status fitml_conv_s8_portable(const fitml_conv_s8_params *p, const int8_t *input,
                                    int8_t *output, void *scratch);
#define fitml_conv_s8 fitml_conv_s8_portable
#include "../portable/fitml_conv_s8.c"
#undef fitml_conv_s8

/*
 * Channel c's output from its dot product. Records: {init, m, round, shift} per channel, or,
 * with the int16 layout (grouped), per 4 channels {init0..3 doubled, (m, round, shift) x 4}.
 */
static inline int8_t conv_out(const int32_t *rec, int grouped, int32_t c, int32_t acc)
{
    if (grouped) {
        const int32_t *g = rec + 16 * (c >> 2);
        return fitml_mve_out((int32_t)(2u * (uint32_t)acc + (uint32_t)g[c & 3]),
                             g + 4 + 3 * (c & 3));
    }
    return fitml_mve_out((int32_t)(2u * ((uint32_t)acc + (uint32_t)rec[4 * c])),
                         rec + 4 * c + 1);
}

/* Output (oy, ox)'s int8 patch (padding holds input_zp), a filter row at a time. */
static void gather(const fitml_conv_s8_params *p, const int8_t *image, int32_t oy, int32_t ox,
                   int8_t *col)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t c = g->input.c, kw = g->filter.w, row = g->input.w * c;
    const int32_t iy0 = oy * g->stride_h - g->pad_h, ix0 = ox * g->stride_w - g->pad_w;
    const int32_t k0 = fitml_clamp(-ix0, 0, kw), k1 = fitml_clamp(g->input.w - ix0, k0, kw);
    int32_t ky, kx;
    for (ky = 0; ky < g->filter.h; ky++, col += kw * c) {
        const int32_t iy = iy0 + ky * g->dilation_h;
        const int8_t *src = image + (size_t)(iy < 0 ? 0 : iy) * row;
        if (iy < 0 || iy >= g->input.h) {
            memset(col, p->input_zp, (size_t)(kw * c));
        } else if (g->dilation_w == 1) {           /* padding, the taps inside, padding */
            memset(col, p->input_zp, (size_t)(k0 * c));
            if (k1 > k0) {
                memcpy(col + k0 * c, src + (ix0 + k0) * c, (size_t)((k1 - k0) * c));
            }
            memset(col + k1 * c, p->input_zp, (size_t)((kw - k1) * c));
        } else {
            for (kx = 0; kx < kw; kx++) {
                const int32_t ix = ix0 + kx * g->dilation_w;
                if (ix < 0 || ix >= g->input.w) {
                    memset(col + kx * c, p->input_zp, (size_t)c);
                } else {
                    memcpy(col + kx * c, src + (size_t)ix * c, (size_t)c);
                }
            }
        }
    }
}

fitml_status fitml_conv_s8(const fitml_conv_s8_params *p, const int8_t *input, int8_t *output,
                           void *scratch)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox, c, depth, cout, in_place, grouped;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (!fitml_conv_s8_dsp_ok(g) || p->fast_requant == NULL || g->filter.n != g->output.c) {
        return fitml_conv_s8_portable(p, input, output, scratch);
    }
    in_place = g->filter.h == 1 && g->filter.w == 1 && g->pad_h == 0 && g->pad_w == 0;
    if (!in_place && scratch == NULL) {
        return FITML_ERR_SCRATCH;
    }
    depth = g->filter.h * g->filter.w * g->input.c;
    cout = g->output.c;
    grouped = p->filter_dsp != NULL;
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++, output += cout) {
                const int8_t *x = image + ((size_t)oy * g->stride_h * g->input.w
                                           + (size_t)ox * g->stride_w) * g->input.c;
                int32_t a[4];
                if (!in_place) {
                    gather(p, image, oy, ox, (int8_t *)scratch);
                    x = (const int8_t *)scratch;
                }
                for (c = 0; c + 4 <= cout; c += 4) {
                    fitml_mve_dot4(x, p->filter + (size_t)c * depth, depth, depth, a);
                    output[c] = conv_out(p->fast_requant, grouped, c, a[0]);
                    output[c + 1] = conv_out(p->fast_requant, grouped, c + 1, a[1]);
                    output[c + 2] = conv_out(p->fast_requant, grouped, c + 2, a[2]);
                    output[c + 3] = conv_out(p->fast_requant, grouped, c + 3, a[3]);
                }
                for (; c < cout; c++) {
                    output[c] = conv_out(p->fast_requant, grouped, c,
                                         fitml_mve_dot(x, p->filter + (size_t)c * depth, depth));
                }
            }
        }
    }
    if (p->act_min > -128 || p->act_max < 127) {        /* output has walked past the end */
        const size_t n = (size_t)g->output.n * g->output.h * g->output.w * cout;
        fitml_dsp_clamp_run(output - n, n, p->act_min, p->act_max);
    }
    return FITML_OK;
}
#endif /* FITML_HAS_MVE */
