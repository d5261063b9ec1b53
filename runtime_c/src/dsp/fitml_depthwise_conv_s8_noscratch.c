/**
 * @file fitml_depthwise_conv_s8_noscratch.c
 * @brief Scratch-free int8 DEPTHWISE_CONV_2D for the Cortex-M DSP extension: pixels whose 3x3
 *        window lies inside the image run the DSP kernel's pixel loop straight on the input
 *        (row pitch = input width * C); border pixels, and shapes the DSP path does not take,
 *        use the portable scratch-free code. Bit-exact with both.
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

#include "fitml_dsp_depthwise.h"

fitml_status fitml_depthwise_conv_s8_noscratch(const fitml_depthwise_conv_s8_params *p,
                                               const int8_t *input, int8_t *output)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox, c, pitch;
    if (!dw_noscratch_args_ok(p, input, output)) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (p->filter_dsp == NULL || !fitml_depthwise_dsp_ok(g, p->depth_multiplier)
        || g->input.c != g->output.c || g->output.c == 0) {
        return fitml_depthwise_conv_s8_noscratch_portable(p, input, output);
    }
    c = g->output.c;
    pitch = g->input.w * c;
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * c;
        for (oy = 0; oy < g->output.h; oy++) {
            const int32_t iy = oy * g->stride_h - g->pad_h;
            for (ox = 0; ox < g->output.w; ox++, output += c) {
                const int32_t ix = ox * g->stride_w - g->pad_w;
                if (iy >= 0 && iy + 3 <= g->input.h && ix >= 0 && ix + 3 <= g->input.w) {
                    const int8_t *px = image + ((size_t)iy * g->input.w + ix) * c;
                    dw_pixel(px, px + c, c, pitch, p->filter_dsp, output);
                } else {
                    dw_noscratch_pixel(p, image, oy, ox, output);
                }
            }
        }
    }
    return FITML_OK;
}
#endif /* FITML_HAS_DSP */
