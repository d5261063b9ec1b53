/**
 * @file fitml_conv_s8.c
 * @brief int8 CONV_2D (TFLM ConvPerChannel), im2col per output pixel + int8 dot products.
 *
 * The folded bias holds -input_zp * sum(filter[c]); padded taps read input_zp, so every tap
 * contributes filter * (x - input_zp) exactly as TFLM's loop that skips them.
 */
#include <string.h>

#include "fitml/fitml_conv.h"
#include "fitml/fitml_support.h"

/* 1x1 filter, no padding: each patch is C_in/groups contiguous input bytes, read in place. */
static int conv_reads_in_place(const fitml_conv_geom *g)
{
    return g->filter.h == 1 && g->filter.w == 1 && g->pad_h == 0 && g->pad_w == 0;
}

size_t fitml_conv_s8_scratch_size(const fitml_conv_s8_params *p)
{
    /* shared with the DSP variant, which needs more: the planner reserves one size per op */
    return p == NULL ? 0 : fitml_conv_s8_scratch_bytes(&p->geom);
}

/* Gathers the receptive field of output (oy, ox) for input channels [c0, c0 + cg). */
static void im2col(const fitml_conv_s8_params *p, const int8_t *image, int32_t oy, int32_t ox,
                   int32_t c0, int8_t *col)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t cg = g->filter.c;
    int32_t ky, kx;
    for (ky = 0; ky < g->filter.h; ky++) {
        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
        for (kx = 0; kx < g->filter.w; kx++) {
            const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
            if (iy < 0 || iy >= g->input.h || ix < 0 || ix >= g->input.w) {
                memset(col, p->input_zp, (size_t)cg);
            } else {
                memcpy(col, image + ((size_t)iy * g->input.w + ix) * g->input.c + c0,
                       (size_t)cg);
            }
            col += cg;
        }
    }
}

fitml_status fitml_conv_s8(const fitml_conv_s8_params *p, const int8_t *input, int8_t *output,
                           void *scratch)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox, grp, groups, per_group, depth, in_place;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (g->filter.c <= 0 || g->input.c % g->filter.c != 0 || g->filter.n != g->output.c) {
        return FITML_ERR_ARGUMENT;
    }
    groups = g->input.c / g->filter.c;
    if (groups <= 0 || g->output.c % groups != 0) {
        return FITML_ERR_ARGUMENT;
    }
    per_group = g->output.c / groups;
    depth = g->filter.h * g->filter.w * g->filter.c;
    in_place = conv_reads_in_place(g);
    if (!in_place && scratch == NULL) {
        return FITML_ERR_SCRATCH;
    }
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                for (grp = 0; grp < groups; grp++) {
                    const int32_t c0 = grp * g->filter.c;
                    const int8_t *col;
                    int32_t oc;
                    if (in_place) {
                        col = image + ((size_t)oy * g->stride_h * g->input.w
                                       + (size_t)ox * g->stride_w) * g->input.c + c0;
                    } else {
                        im2col(p, image, oy, ox, c0, (int8_t *)scratch);
                        col = (const int8_t *)scratch;
                    }
                    for (oc = grp * per_group; oc < (grp + 1) * per_group; oc++) {
                        const int32_t q = p->requant.per_channel ? oc : 0;
                        const int32_t acc = fitml_wrap_add(
                            fitml_dot_s8(col, p->filter + (size_t)oc * depth, depth),
                            p->bias[oc]);
                        output[oc] = fitml_requant_s8(acc, p->requant.multiplier[q],
                                                      p->requant.shift[q], p->output_zp,
                                                      p->act_min, p->act_max);
                    }
                }
                output += g->output.c;
            }
        }
    }
    return FITML_OK;
}
