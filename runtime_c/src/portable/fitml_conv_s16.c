/**
 * @file fitml_conv_s16.c
 * @brief int16 x int8 CONV_2D (TFLM ConvPerChannel, int16 overload): taps outside the image are
 *        skipped, products summed exactly in int64, bias added, then fitml_requant_s16.
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

/* Exact sum of filter * input over the taps of output (oy, ox) inside the image. */
static int64_t tap_sum(const fitml_conv_geom *g, const int16_t *image, const int8_t *filt,
                       int32_t oy, int32_t ox, int32_t c0)
{
    const int32_t cg = g->filter.c;
    int64_t acc = 0;
    int32_t ky, kx, c;
    for (ky = 0; ky < g->filter.h; ky++) {
        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
        if (iy < 0 || iy >= g->input.h) {
            continue;
        }
        for (kx = 0; kx < g->filter.w; kx++) {
            const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
            const int16_t *x = image + ((size_t)iy * g->input.w + ix) * g->input.c + c0;
            const int8_t *w = filt + ((size_t)ky * g->filter.w + kx) * cg;
            if (ix < 0 || ix >= g->input.w) {
                continue;
            }
            for (c = 0; c < cg; c++) {
                acc += (int32_t)w[c] * (int32_t)x[c];   /* |product| <= 2^22 */
            }
        }
    }
    return acc;
}

fitml_status fitml_conv_s16(const fitml_conv_s16_params *p, const int16_t *input,
                            int16_t *output)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox, oc, per_group, depth;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    per_group = fitml_conv_per_group(g);
    if (per_group == 0) {
        return FITML_ERR_ARGUMENT;
    }
    depth = g->filter.h * g->filter.w * g->filter.c;
    for (b = 0; b < g->output.n; b++) {
        const int16_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                for (oc = 0; oc < g->output.c; oc++) {
                    const int32_t q = p->requant.per_channel ? oc : 0;
                    const int64_t acc = tap_sum(g, image, p->filter + (size_t)oc * depth, oy, ox,
                                                (oc / per_group) * g->filter.c);
                    *output++ = fitml_requant_s16(fitml_wrap_add64(acc, p->bias[oc]), p->acc32,
                                                  p->requant.multiplier[q], p->requant.shift[q],
                                                  p->act_min, p->act_max);
                }
            }
        }
    }
    return FITML_OK;
}
