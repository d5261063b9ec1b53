/**
 * @file fitml_depthwise_conv_s8_noscratch.c
 * @brief Scratch-free int8 DEPTHWISE_CONV_2D for the Cortex-M DSP extension: per 4 channels a
 *        block of doubled taps and fast records on the stack (fitml_dsp_dw8.h, built from the
 *        plain int8 filter), then every pixel whose 3x3 window lies inside the image runs the
 *        DSP pixel loop straight on the input (row pitch = input width * C); border pixels
 *        take exact C. Shapes the DSP path does not take use the portable scratch-free code.
 *        Bit-exact with both.
 */
#include "fitml/fitml_conv.h"
#include "fitml/fitml_support.h"

#if !FITML_HAS_DSP
#include "../portable/fitml_depthwise_conv_s8_noscratch.c"
#else

fitml_status fitml_depthwise_conv_s8_noscratch_portable(const fitml_depthwise_conv_s8_params *p,
                                                        const int8_t *input, int8_t *output);
#define fitml_depthwise_conv_s8_noscratch fitml_depthwise_conv_s8_noscratch_portable
#include "../portable/fitml_depthwise_conv_s8_noscratch.c"
#undef fitml_depthwise_conv_s8_noscratch

#include "fitml_dsp_clamp.h"
#include "fitml_dsp_depthwise.h"
#include "fitml_dsp_dw8.h"

/* Channels c0 .. c0 + 3 of a border pixel (oy, ox): taps outside the image read input_zp. */
static void dw8_border(const fitml_depthwise_conv_s8_params *p, const int8_t *image,
                       int32_t oy, int32_t ox, int32_t c0, int8_t *out)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t c = g->output.c;
    int32_t j, ky, kx;
    for (j = 0; j < 4; j++) {
        const int32_t ch = c0 + j, q = p->requant.per_channel ? ch : 0;
        uint32_t acc = (uint32_t)p->bias[ch];
        for (ky = 0; ky < 3; ky++) {
            const int32_t iy = oy * g->stride_h - g->pad_h + ky;
            for (kx = 0; kx < 3; kx++) {
                const int32_t ix = ox * g->stride_w - g->pad_w + kx;
                const int32_t x = iy < 0 || iy >= g->input.h || ix < 0 || ix >= g->input.w
                                      ? p->input_zp
                                      : image[((size_t)iy * g->input.w + ix) * c + ch];
                acc += (uint32_t)((int32_t)p->filter[(ky * 3 + kx) * c + ch] * x);
            }
        }
        out[j] = fitml_requant_s8((int32_t)acc, p->requant.multiplier[q], p->requant.shift[q],
                                  p->output_zp, p->act_min, p->act_max);
    }
}

fitml_status fitml_depthwise_conv_s8_noscratch(const fitml_depthwise_conv_s8_params *p,
                                               const int8_t *input, int8_t *output)
{
    const fitml_conv_geom *g;
    int32_t blk[DW8_BLOCK];
    int32_t b, oy, ox, c, c0, pitch;
    if (!dw_noscratch_args_ok(p, input, output)) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (!fitml_depthwise_dsp_ok(g, p->depth_multiplier) || g->input.c != g->output.c
        || g->output.c == 0) {
        return fitml_depthwise_conv_s8_noscratch_portable(p, input, output);
    }
    c = g->output.c;
    pitch = g->input.w * c;
    for (c0 = 0; c0 < c; c0 += 4) {
        int8_t *out = output + c0;
        if (!dw8_blocks(p, c0, 1, blk)) {
            return fitml_depthwise_conv_s8_noscratch_portable(p, input, output);
        }
        for (b = 0; b < g->output.n; b++) {
            const int8_t *image = input + (size_t)b * g->input.h * pitch;
            for (oy = 0; oy < g->output.h; oy++) {
                const int32_t iy = oy * g->stride_h - g->pad_h;
                for (ox = 0; ox < g->output.w; ox++, out += c) {
                    const int32_t ix = ox * g->stride_w - g->pad_w;
                    if (iy >= 0 && iy + 3 <= g->input.h && ix >= 0 && ix + 3 <= g->input.w) {
                        const int8_t *px = image + ((size_t)iy * g->input.w + ix) * c + c0;
                        dw_pixel(px, px + 4, c, pitch, (const int16_t *)(const void *)blk, out);
                    } else {
                        dw8_border(p, image, oy, ox, c0, out);
                    }
                }
            }
        }
    }
    fitml_dsp_clamp_s8(output, (size_t)g->output.n * g->output.h * g->output.w * g->output.c,
                       p->act_min, p->act_max);
    return FITML_OK;
}
#endif /* FITML_HAS_DSP */
