/**
 * @file fitml_depthwise_conv_s16.c
 * @brief int16 x int8 DEPTHWISE_CONV_2D for the Cortex-M DSP extension; bit-exact with the
 *        portable kernel (same filter layout).
 *
 * Depth multiplier 1: 4 channels per pass, one int32 sum each in a register over the pixel's
 * taps inside the image (found once per pixel). Per tap, two words of int16 inputs and one
 * word of 4 filter bytes, SXTB16 into (w0, w2), (w1, w3), and SMLABB / SMLATB / SMLABT /
 * SMLATT pick the matching halves: no repacking. Other multipliers sum per channel in int32.
 * int32 sums are exact up to 511 taps (|int16 * int8| <= 2^22); larger windows, rare, take
 * the portable kernel.
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

#if !FITML_HAS_DSP
#include "../portable/fitml_depthwise_conv_s16.c"
#else
#include "fitml_dsp_s16.h"

fitml_status fitml_depthwise_conv_s16_portable(const fitml_depthwise_conv_s16_params *p,
                                               const int16_t *input, int16_t *output);
#define fitml_depthwise_conv_s16 fitml_depthwise_conv_s16_portable
#include "../portable/fitml_depthwise_conv_s16.c"
#undef fitml_depthwise_conv_s16

#define DW16_MAX_TAPS 511

static inline int16_t dw16_out(const fitml_depthwise_conv_s16_params *p, int32_t oc, int32_t sum)
{
    return fitml_s16_out(p->bias, p->geom.output.c, oc, sum, p->act_min, p->act_max);
}

/* One pixel's valid taps: rows [ky0, ky1) from input row iy0, columns [kx0, kx1) from ix0. */
typedef struct {
    int32_t ky0, ky1, kx0, kx1, iy0, ix0;
} dw16_taps;

/* Depth multiplier 1: all channels of one pixel. */
static void dw16_pixel(const fitml_depthwise_conv_s16_params *p, const int16_t *image,
                       const dw16_taps *t, int16_t *out)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t c = g->output.c, pitch = g->input.w * c, wrow = g->filter.w * c;
    const int32_t xstep = g->dilation_w * c;
    int32_t ch, ky, kx;
    for (ch = 0; ch + 4 <= c; ch += 4) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (ky = t->ky0; ky < t->ky1; ky++) {
            const int16_t *x = image + (size_t)(t->iy0 + ky * g->dilation_h) * pitch
                               + (size_t)(t->ix0 + t->kx0 * g->dilation_w) * c + ch;
            const int8_t *w = p->filter + (size_t)ky * wrow + t->kx0 * c + ch;
            for (kx = t->kx0; kx < t->kx1; kx++, x += xstep, w += c) {
                const uint32_t x01 = fitml_s16_ld32(x), x23 = fitml_s16_ld32(x + 2);
                const uint32_t u = fitml_s16_ld32(w);
                const uint32_t w02 = fitml_sxtb16(u), w13 = fitml_sxtb16_ror8(u);
                a0 = fitml_smlabb(x01, w02, a0);
                a1 = fitml_smlatb(x01, w13, a1);
                a2 = __smlabt((int32_t)x23, (int32_t)w02, a2);
                a3 = __smlatt((int32_t)x23, (int32_t)w13, a3);
            }
        }
        out[ch] = dw16_out(p, ch, a0);
        out[ch + 1] = dw16_out(p, ch + 1, a1);
        out[ch + 2] = dw16_out(p, ch + 2, a2);
        out[ch + 3] = dw16_out(p, ch + 3, a3);
    }
    for (; ch < c; ch++) {
        int32_t a = 0;
        for (ky = t->ky0; ky < t->ky1; ky++) {
            const int16_t *x = image + (size_t)(t->iy0 + ky * g->dilation_h) * pitch
                               + (size_t)(t->ix0 + t->kx0 * g->dilation_w) * c + ch;
            const int8_t *w = p->filter + (size_t)ky * wrow + t->kx0 * c + ch;
            for (kx = t->kx0; kx < t->kx1; kx++, x += xstep, w += c) {
                a += *x * *w;
            }
        }
        out[ch] = dw16_out(p, ch, a);
    }
}

/* Any depth multiplier: output channel oc reads input channel oc / dm. */
static void dw16_pixel_dm(const fitml_depthwise_conv_s16_params *p, const int16_t *image,
                          const dw16_taps *t, int16_t *out)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t cin = g->input.c, cout = g->output.c, pitch = g->input.w * cin;
    const int32_t xstep = g->dilation_w * cin, wrow = g->filter.w * cout;
    int32_t oc, ky, kx;
    for (oc = 0; oc < cout; oc++) {
        const int32_t ic = oc / p->depth_multiplier;
        int32_t a = 0;
        for (ky = t->ky0; ky < t->ky1; ky++) {
            const int16_t *x = image + (size_t)(t->iy0 + ky * g->dilation_h) * pitch
                               + (size_t)(t->ix0 + t->kx0 * g->dilation_w) * cin + ic;
            const int8_t *w = p->filter + (size_t)ky * wrow + t->kx0 * cout + oc;
            for (kx = t->kx0; kx < t->kx1; kx++, x += xstep, w += cout) {
                a += *x * *w;
            }
        }
        out[oc] = dw16_out(p, oc, a);
    }
}

fitml_status fitml_depthwise_conv_s16(const fitml_depthwise_conv_s16_params *p,
                                      const int16_t *input, int16_t *output)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox;
    dw16_taps t;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (p->depth_multiplier <= 0 || g->output.c != g->input.c * p->depth_multiplier
        || g->filter.c != g->output.c) {
        return FITML_ERR_ARGUMENT;
    }
    if (g->filter.h * g->filter.w > DW16_MAX_TAPS) {
        return fitml_depthwise_conv_s16_portable(p, input, output);
    }
    for (b = 0; b < g->output.n; b++) {
        const int16_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            t.iy0 = oy * g->stride_h - g->pad_h;
            fitml_s16_taps(t.iy0, g->dilation_h, g->filter.h, g->input.h, &t.ky0, &t.ky1);
            for (ox = 0; ox < g->output.w; ox++, output += g->output.c) {
                t.ix0 = ox * g->stride_w - g->pad_w;
                fitml_s16_taps(t.ix0, g->dilation_w, g->filter.w, g->input.w, &t.kx0, &t.kx1);
                if (p->depth_multiplier == 1) {
                    dw16_pixel(p, image, &t, output);
                } else {
                    dw16_pixel_dm(p, image, &t, output);
                }
            }
        }
    }
    return FITML_OK;
}
#endif /* FITML_HAS_DSP */
