/**
 * @file fitml_conv_s16.c
 * @brief int16 x int8 CONV_2D for the Cortex-M DSP extension: int16 activation pairs, weights
 *        widened by SXTB16, SMLAD, two output channels per pass; bit-exact with the portable
 *        kernel.
 *
 * Per output pixel the taps inside the image are found once. The filter's units (fitml_dsp_s16.h)
 * depend on the shape, as in toolchain/ops/int16_lowering.py conv_dsp_unit:
 * - no groups and at most CONV16_PATCH weights per channel: the pixel's receptive field is
 *   copied once into a stack patch (padded taps hold 0, which adds nothing: zero points are
 *   0), and each channel is one dot product over the whole row (a unit);
 * - else, no groups nor x dilation: a filter row's KW * C_in taps are contiguous on both
 *   sides (a unit); otherwise each tap's C_in / groups values are a unit. Padded taps are
 *   skipped, as in TFLM.
 */
#include <string.h>

#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

#include "fitml_dsp_s16.h"

/* Largest per-channel depth (KH * KW * C_in) gathered into a stack patch (int16 values). */
#define CONV16_PATCH 128

/* One pixel's valid taps and the layout's units. */
typedef struct {
    const int16_t *image;
    int32_t ky0, ky1, kx0, kx1, iy0, ix0;
    int32_t span, full, patch, rows_unit, flush;
} conv16_ctx;

/* Sums of output channel(s) wa (and wb) over the pixel's taps, input channels from c0. */
static void conv16_sums(const fitml_conv_geom *g, const conv16_ctx *k, const int8_t *wa,
                        const int8_t *wb, int32_t c0, int64_t *s)
{
    const int32_t cg = g->filter.c, pitch = g->input.w * g->input.c;
    int32_t acc[2] = {0, 0};
    int32_t ky, kx;
    s[0] = s[1] = 0;
    for (ky = k->ky0; ky < k->ky1; ky++) {
        const int16_t *row = k->image + (size_t)(k->iy0 + ky * g->dilation_h) * pitch + c0;
        const int8_t *ra = wa + (size_t)ky * k->span;
        const int8_t *rb = wb == NULL ? NULL : wb + (size_t)ky * k->span;
        if (k->rows_unit) {         /* KW * C_in values in a row: one unit */
            fitml_s16_dot_run(row + (size_t)(k->ix0 + k->kx0) * cg, ra, rb, k->kx0 * cg,
                              k->kx1 * cg, k->full, acc, k->flush, s);
            continue;
        }
        for (kx = k->kx0; kx < k->kx1; kx++) {
            const int16_t *x = row + (size_t)(k->ix0 + kx * g->dilation_w) * g->input.c;
            fitml_s16_dot_run(x, ra + kx * cg, rb == NULL ? NULL : rb + kx * cg, 0, cg,
                              k->full, acc, k->flush, s);
        }
    }
    s[0] += acc[0], s[1] += acc[1];
}

/*
 * n int16 values copied / zeroed two per word, inline: libc's calls cost more than these few
 * values; the empty asm keeps gcc from turning the loops back into memcpy / memset.
 */
static inline void conv16_copy(int16_t *dst, const int16_t *src, int32_t n)
{
    uint32_t v;
    for (; n >= 2; n -= 2, dst += 2, src += 2) {
        memcpy(&v, src, 4);
        memcpy(dst, &v, 4);
        __asm__ volatile("" ::: "memory");
    }
    if (n > 0) {
        *dst = *src;
    }
}

static inline void conv16_zero(int16_t *dst, int32_t n)
{
    const uint32_t v = 0;
    for (; n >= 2; n -= 2, dst += 2) {
        memcpy(dst, &v, 4);
        __asm__ volatile("" ::: "memory");
    }
    if (n > 0) {
        *dst = 0;
    }
}

/* The pixel's receptive field, padded taps 0, as one row of KH * KW * C_in values. */
static void conv16_gather(const fitml_conv_geom *g, const conv16_ctx *k, int16_t *patch)
{
    const int32_t c = g->input.c, pitch = g->input.w * c, span = g->filter.w * c;
    int32_t ky, kx;
    for (ky = 0; ky < g->filter.h; ky++, patch += span) {
        const int16_t *row = k->image + (size_t)(k->iy0 + ky * g->dilation_h) * pitch;
        if (ky < k->ky0 || ky >= k->ky1) {
            conv16_zero(patch, span);
        } else if (g->dilation_w == 1) {       /* the valid taps are contiguous */
            conv16_zero(patch, k->kx0 * c);
            conv16_copy(patch + k->kx0 * c, row + (size_t)(k->ix0 + k->kx0) * c,
                        (k->kx1 - k->kx0) * c);
            conv16_zero(patch + k->kx1 * c, span - k->kx1 * c);
        } else {
            for (kx = 0; kx < g->filter.w; kx++) {
                if (kx >= k->kx0 && kx < k->kx1) {
                    conv16_copy(patch + kx * c, row + (size_t)(k->ix0 + kx * g->dilation_w) * c,
                                c);
                } else {
                    conv16_zero(patch + kx * c, c);
                }
            }
        }
    }
}

static inline int16_t conv16_out(const fitml_conv_s16_params *p, int32_t oc, int64_t sum)
{
    return fitml_s16_out(p->bias, p->geom.output.c, oc, sum, p->act_min, p->act_max);
}

fitml_status fitml_conv_s16(const fitml_conv_s16_params *p, const int16_t *input,
                            int16_t *output)
{
    const fitml_conv_geom *g;
    conv16_ctx k;
    int16_t patch[CONV16_PATCH];
    const int16_t *x;
    int32_t b, oy, ox, oc, groups, per_group, depth, direct;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    per_group = fitml_conv_per_group(g);
    if (per_group == 0) {
        return FITML_ERR_ARGUMENT;
    }
    groups = g->input.c / g->filter.c;
    depth = g->filter.h * g->filter.w * g->filter.c;
    k.span = g->filter.w * g->filter.c;
    k.patch = groups == 1 && depth <= CONV16_PATCH;
    k.rows_unit = groups == 1 && g->dilation_w == 1;
    k.full = (k.patch ? depth : k.rows_unit ? k.span : g->filter.c) & ~3;  /* unit's blocks */
    k.flush = depth > FITML_S16_CHUNK;
    direct = g->filter.h == 1 && (g->filter.w == 1 || g->dilation_w == 1);
    for (b = 0; b < g->output.n; b++) {
        k.image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            k.iy0 = oy * g->stride_h - g->pad_h;
            fitml_s16_taps(k.iy0, g->dilation_h, g->filter.h, g->input.h, &k.ky0, &k.ky1);
            for (ox = 0; ox < g->output.w; ox++, output += g->output.c) {
                k.ix0 = ox * g->stride_w - g->pad_w;
                fitml_s16_taps(k.ix0, g->dilation_w, g->filter.w, g->input.w, &k.kx0, &k.kx1);
                x = patch;
                if (k.patch && direct && k.ky1 - k.ky0 == 1 && k.kx1 - k.kx0 == g->filter.w) {
                    x = k.image + (size_t)k.iy0 * g->input.w * g->input.c
                        + (size_t)k.ix0 * g->input.c;          /* the window is one span */
                } else if (k.patch) {
                    conv16_gather(g, &k, patch);
                }
                for (oc = 0; oc < g->output.c; oc++) {
                    const int8_t *wa = p->filter + (size_t)oc * depth;
                    const int32_t c0 = (oc / per_group) * g->filter.c;
                    const int32_t pair = oc % per_group + 1 < per_group;
                    int64_t s[2];
                    if (k.patch) {
                        int32_t acc[2];
                        fitml_s16_dot_unit(x, wa, pair ? wa + depth : NULL, depth, acc);
                        s[0] = acc[0], s[1] = acc[1];
                    } else {
                        conv16_sums(g, &k, wa, pair ? wa + depth : NULL, c0, s);
                    }
                    output[oc] = conv16_out(p, oc, s[0]);
                    if (pair) {
                        oc++;
                        output[oc] = conv16_out(p, oc, s[1]);
                    }
                }
            }
        }
    }
    return FITML_OK;
}
