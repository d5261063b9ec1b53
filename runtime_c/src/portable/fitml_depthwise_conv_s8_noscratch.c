/**
 * @file fitml_depthwise_conv_s8_noscratch.c
 * @brief int8 DEPTHWISE_CONV_2D without scratch: per output pixel, 4 output channels at a time
 *        accumulate over the taps in registers, for where fitml_depthwise_conv_s8's per-channel
 *        int32 row would raise the peak arena. int32 wraparound sums are order-free: bit-exact
 *        with it. A tap outside the image adds filter * input_zp (the bias is folded).
 */
#include "fitml/fitml_conv.h"
#include "fitml/fitml_support.h"

#define DW_LANES 4

/* All output channels of pixel (oy, ox) of one image into out. */
static void dw_noscratch_pixel(const fitml_depthwise_conv_s8_params *p, const int8_t *image,
                               int32_t oy, int32_t ox, int8_t *out)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t cout = g->output.c, dm = p->depth_multiplier;
    int32_t ky, kx, oc, j, n;
    for (oc = 0; oc < cout; oc += DW_LANES) {
        uint32_t acc[DW_LANES] = {0u, 0u, 0u, 0u};
        n = cout - oc < DW_LANES ? cout - oc : DW_LANES;
        for (j = 0; j < n; j++) {
            acc[j] = (uint32_t)p->bias[oc + j];
        }
        for (ky = 0; ky < g->filter.h; ky++) {
            const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
            for (kx = 0; kx < g->filter.w; kx++) {
                const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
                const int8_t *w = p->filter + (ky * g->filter.w + kx) * cout + oc;
                const int8_t *x;
                if (iy < 0 || iy >= g->input.h || ix < 0 || ix >= g->input.w) {
                    for (j = 0; j < n; j++) {
                        acc[j] += (uint32_t)((int32_t)w[j] * p->input_zp);
                    }
                    continue;
                }
                x = image + ((size_t)iy * g->input.w + ix) * g->input.c;
                if (dm == 1 && n == DW_LANES) {
                    acc[0] += (uint32_t)((int32_t)w[0] * x[oc]);
                    acc[1] += (uint32_t)((int32_t)w[1] * x[oc + 1]);
                    acc[2] += (uint32_t)((int32_t)w[2] * x[oc + 2]);
                    acc[3] += (uint32_t)((int32_t)w[3] * x[oc + 3]);
                } else {
                    for (j = 0; j < n; j++) {
                        acc[j] += (uint32_t)((int32_t)w[j] * x[(oc + j) / dm]);
                    }
                }
            }
        }
        for (j = 0; j < n; j++) {
            const int32_t q = p->requant.per_channel ? oc + j : 0;
            out[oc + j] = fitml_requant_s8((int32_t)acc[j], p->requant.multiplier[q],
                                           p->requant.shift[q], p->output_zp, p->act_min,
                                           p->act_max);
        }
    }
}

/* Arguments valid for both variants of the kernel. */
static int dw_noscratch_args_ok(const fitml_depthwise_conv_s8_params *p, const int8_t *input,
                                const int8_t *output)
{
    const fitml_conv_geom *g;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return 0;
    }
    g = &p->geom;
    return p->depth_multiplier > 0 && g->input.c * p->depth_multiplier == g->output.c
           && g->filter.c == g->output.c;
}

fitml_status fitml_depthwise_conv_s8_noscratch(const fitml_depthwise_conv_s8_params *p,
                                               const int8_t *input, int8_t *output)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox;
    if (!dw_noscratch_args_ok(p, input, output)) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++, output += g->output.c) {
                dw_noscratch_pixel(p, image, oy, ox, output);
            }
        }
    }
    return FITML_OK;
}
