/**
 * @file fitml_dsp_direct.h
 * @brief Internal: scratch-free int8 CONV_2D (and fused residual ADD) for the Cortex-M DSP
 *        extension. Reads the input in place: each filter row is one contiguous span of
 *        KW * C_in bytes, dotted 4 bytes at a time (SXTB16 + SMLAD) for 2 channels, and for
 *        2 horizontally adjacent pixels when both windows lie inside the image, so each widened
 *        word feeds two SMLADs. Padded taps add filter * input_zp (the folded bias holds
 *        -input_zp * sum(filter)); int32 sums wrap, so the order is free and the result equals
 *        the portable kernel's bit for bit. Groups and dilated columns take the portable loop.
 */
#ifndef FITML_DSP_DIRECT_H
#define FITML_DSP_DIRECT_H

#include <string.h>

#include "fitml/fitml_conv.h"
#include "fitml/fitml_support.h"
#include "../portable/fitml_conv_direct.h"

/* a[0] += x . w0, a[1] += x . w1 over n bytes. */
static inline void dd_1x2(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n,
                          int32_t *a)
{
    uint32_t a0 = (uint32_t)a[0], a1 = (uint32_t)a[1], v, k, xa, xb;
    for (; n >= 4; n -= 4, x += 4, w0 += 4, w1 += 4) {
        memcpy(&v, x, 4);
        xa = fitml_sxtb16(v);
        xb = fitml_sxtb16_ror8(v);
        memcpy(&k, w0, 4);
        a0 = (uint32_t)fitml_smlad(xa, fitml_sxtb16(k), (int32_t)a0);
        a0 = (uint32_t)fitml_smlad(xb, fitml_sxtb16_ror8(k), (int32_t)a0);
        memcpy(&k, w1, 4);
        a1 = (uint32_t)fitml_smlad(xa, fitml_sxtb16(k), (int32_t)a1);
        a1 = (uint32_t)fitml_smlad(xb, fitml_sxtb16_ror8(k), (int32_t)a1);
    }
    for (; n > 0; n--, x++) {
        a0 += (uint32_t)(*x * *w0++);
        a1 += (uint32_t)(*x * *w1++);
    }
    a[0] = (int32_t)a0;
    a[1] = (int32_t)a1;
}

/* Pixels x0, x1 against channels w0, w1: a = {x0.w0, x0.w1, x1.w0, x1.w1} (accumulated). */
static inline void dd_2x2(const int8_t *x0, const int8_t *x1, const int8_t *w0,
                          const int8_t *w1, int32_t n, int32_t *a)
{
    uint32_t a0 = (uint32_t)a[0], a1 = (uint32_t)a[1], a2 = (uint32_t)a[2];
    uint32_t a3 = (uint32_t)a[3], v, pa, pb, qa, qb, k, ka, kb;
    for (; n >= 4; n -= 4, x0 += 4, x1 += 4, w0 += 4, w1 += 4) {
        memcpy(&v, x0, 4);
        pa = fitml_sxtb16(v);
        pb = fitml_sxtb16_ror8(v);
        memcpy(&v, x1, 4);
        qa = fitml_sxtb16(v);
        qb = fitml_sxtb16_ror8(v);
        memcpy(&k, w0, 4);
        ka = fitml_sxtb16(k);
        kb = fitml_sxtb16_ror8(k);
        a0 = (uint32_t)fitml_smlad(pb, kb, fitml_smlad(pa, ka, (int32_t)a0));
        a2 = (uint32_t)fitml_smlad(qb, kb, fitml_smlad(qa, ka, (int32_t)a2));
        memcpy(&k, w1, 4);
        ka = fitml_sxtb16(k);
        kb = fitml_sxtb16_ror8(k);
        a1 = (uint32_t)fitml_smlad(pb, kb, fitml_smlad(pa, ka, (int32_t)a1));
        a3 = (uint32_t)fitml_smlad(qb, kb, fitml_smlad(qa, ka, (int32_t)a3));
    }
    for (; n > 0; n--, w0++, w1++) {
        a0 += (uint32_t)(*x0 * *w0);
        a1 += (uint32_t)(*x0++ * *w1);
        a2 += (uint32_t)(*x1 * *w0);
        a3 += (uint32_t)(*x1++ * *w1);
    }
    a[0] = (int32_t)a0, a[1] = (int32_t)a1, a[2] = (int32_t)a2, a[3] = (int32_t)a3;
}

/* Padded taps: s[0] = zp * sum(w0[0..n)), s[1] likewise for w1 (wrapping). */
static inline void dd_pad(int32_t zp, const int8_t *w0, const int8_t *w1, int32_t n,
                          uint32_t *s)
{
    const uint32_t ones = 0x00010001u;
    int32_t t0 = 0, t1 = 0;
    uint32_t k;
    for (; n >= 4; n -= 4, w0 += 4, w1 += 4) {
        memcpy(&k, w0, 4);
        t0 = fitml_smlad(ones, fitml_sxtb16(k), fitml_smlad(ones, fitml_sxtb16_ror8(k), t0));
        memcpy(&k, w1, 4);
        t1 = fitml_smlad(ones, fitml_sxtb16(k), fitml_smlad(ones, fitml_sxtb16_ror8(k), t1));
    }
    for (; n > 0; n--) {
        t0 += *w0++;
        t1 += *w1++;
    }
    s[0] += (uint32_t)t0 * (uint32_t)zp;
    s[1] += (uint32_t)t1 * (uint32_t)zp;
}

/* Requantize acc for channel oc and store it at out[oc] (after the ADD with res[oc]). */
static inline void dd_emit(const fitml_conv_s8_params *p, int32_t acc, int32_t oc,
                           int8_t *out, const fitml_add_s8_params *add, const int8_t *res,
                           int32_t residual_first)
{
    const int32_t q = p->requant.per_channel ? oc : 0;
    const int8_t y = fitml_requant_s8(acc, p->requant.multiplier[q], p->requant.shift[q],
                                      p->output_zp, p->act_min, p->act_max);
    if (add == NULL) {
        out[oc] = y;
    } else {
        const int32_t r = res[oc];
        out[oc] = residual_first ? fitml_addsub_one(add, r, y, 1)
                                 : fitml_addsub_one(add, y, r, 1);
    }
}

/* One output row oy: pixels in pairs where both windows fit horizontally, else one by one. */
static void dd_row(const fitml_conv_s8_params *p, const int8_t *image, int32_t oy,
                   int8_t *out, const fitml_add_s8_params *add, const int8_t *res,
                   int32_t residual_first)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t cin = g->input.c, cout = g->output.c, kw = g->filter.w;
    const int32_t span = kw * cin, depth = g->filter.h * span, iy0 = oy * g->stride_h - g->pad_h;
    int32_t ox = 0, oc, ky;
    while (ox < g->output.w) {
        const int32_t ix0 = ox * g->stride_w - g->pad_w;
        const int32_t pair = ox + 1 < g->output.w && ix0 >= 0
                             && ix0 + g->stride_w + kw <= g->input.w;
        const int32_t k0 = fitml_clamp(-ix0, 0, kw), k1 = fitml_clamp(g->input.w - ix0, k0, kw);
        for (oc = 0; oc < cout; oc += 2) {
            const int32_t oc1 = oc + 1 < cout ? oc + 1 : oc;
            const int8_t *w0 = p->filter + (size_t)oc * depth;
            const int8_t *w1 = p->filter + (size_t)oc1 * depth;
            int32_t a[4];
            uint32_t s[2] = {0u, 0u};
            a[0] = a[2] = p->bias[oc];
            a[1] = a[3] = p->bias[oc1];
            for (ky = 0; ky < g->filter.h; ky++, w0 += span, w1 += span) {
                const int32_t iy = iy0 + ky * g->dilation_h;
                const int8_t *x;
                if (iy < 0 || iy >= g->input.h) {
                    dd_pad(p->input_zp, w0, w1, span, s);
                    continue;
                }
                x = image + ((size_t)iy * g->input.w + ix0 + k0) * cin;
                if (pair) {
                    dd_2x2(x, x + g->stride_w * cin, w0, w1, span, a);
                } else {
                    dd_pad(p->input_zp, w0, w1, k0 * cin, s);
                    dd_1x2(x, w0 + k0 * cin, w1 + k0 * cin, (k1 - k0) * cin, a);
                    dd_pad(p->input_zp, w0 + k1 * cin, w1 + k1 * cin, (kw - k1) * cin, s);
                }
            }
            a[0] = (int32_t)((uint32_t)a[0] + s[0]);
            a[1] = (int32_t)((uint32_t)a[1] + s[1]);
            dd_emit(p, a[0], oc, out, add, res, residual_first);
            if (oc1 != oc) {
                dd_emit(p, a[1], oc1, out, add, res, residual_first);
            }
            if (pair) {
                a[2] = (int32_t)((uint32_t)a[2] + s[0]);
                a[3] = (int32_t)((uint32_t)a[3] + s[1]);
                const int8_t *res1 = res != NULL ? res + cout : NULL;
                dd_emit(p, a[2], oc, out + cout, add, res1, residual_first);
                if (oc1 != oc) {
                    dd_emit(p, a[3], oc1, out + cout, add, res1, residual_first);
                }
            }
        }
        ox += 1 + pair;
        out += (1 + pair) * cout;
        res = res != NULL ? res + (1 + pair) * cout : NULL;
    }
}

/* The DSP direct conv; what it does not take goes to the portable loop. */
static inline fitml_status fitml_dsp_direct_s8(const fitml_conv_s8_params *p,
                                               const int8_t *input, int8_t *output,
                                               const fitml_add_s8_params *add,
                                               const int8_t *residual, int32_t residual_first)
{
    const fitml_conv_geom *g;
    int32_t b, oy;
    size_t plane;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL
        || (add != NULL && residual == NULL)) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (g->filter.c != g->input.c || g->filter.n != g->output.c || g->dilation_w != 1
        || g->output.c <= 0) {
        return fitml_conv_direct_s8(p, input, output, add, residual, residual_first);
    }
    plane = (size_t)g->output.w * g->output.c;
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            dd_row(p, image, oy, output, add, residual, residual_first);
            output += plane;
            residual = residual != NULL ? residual + plane : NULL;
        }
    }
    return FITML_OK;
}

#endif /* FITML_DSP_DIRECT_H */
