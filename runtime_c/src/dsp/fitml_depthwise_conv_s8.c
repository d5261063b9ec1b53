/**
 * @file fitml_depthwise_conv_s8.c
 * @brief int8 DEPTHWISE_CONV_2D 3x3 for the Cortex-M DSP extension: 4 channels per pass.
 *
 * For each output row, the 3 input rows it reads are copied into scratch with input_zp
 * padding (the folded bias cancels it), so every pixel sees a full 3x3 window. A pass reads
 * one word (4 channels) per tap, widens it with SXTB16 and multiplies the lanes with
 * SMLABB/SMLATT by pre-widened taps; one LDM loads the 4 accumulator inits. Python packs, per
 * 4 channels, {inits, taps, requantization records} into filter_dsp so one pointer walks it
 * (toolchain/backends/cdsp.py depthwise_dsp_layout). Other shapes, and layers without the
 * fast requantization, take the portable path.
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

#include "fitml_dsp_depthwise.h"

/* The 3 input rows of output row oy, padded with zp, into rows (pitch = width * C bytes). */
static void copy_rows(const fitml_depthwise_conv_s8_params *p, const int8_t *image, int32_t oy,
                      int8_t *rows, int32_t width)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t c = g->input.c, pitch = width * c;
    const int32_t k0 = fitml_clamp(g->pad_w, 0, width);
    const int32_t k1 = fitml_clamp(g->pad_w + g->input.w, k0, width);
    int32_t k;
    for (k = 0; k < 3; k++, rows += pitch) {
        const int32_t iy = oy * g->stride_h - g->pad_h + k;
        if (iy < 0 || iy >= g->input.h) {
            memset(rows, p->input_zp, (size_t)pitch);
            continue;
        }
        memset(rows, p->input_zp, (size_t)(k0 * c));
        memcpy(rows + k0 * c, image + ((size_t)iy * g->input.w + (size_t)(k0 - g->pad_w)) * c,
               (size_t)((k1 - k0) * c));
        memset(rows + k1 * c, p->input_zp, (size_t)((width - k1) * c));
    }
}

fitml_status fitml_depthwise_conv_s8(const fitml_depthwise_conv_s8_params *p,
                                     const int8_t *input, int8_t *output, void *scratch)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox, width, c;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (p->filter_dsp == NULL || !fitml_depthwise_dsp_ok(g, p->depth_multiplier)
        || g->input.c != g->output.c || g->output.c == 0) {
        return fitml_depthwise_conv_s8_portable(p, input, output, scratch);
    }
    if (scratch == NULL) {
        return FITML_ERR_SCRATCH;
    }
    c = g->output.c;
    width = fitml_depthwise_dsp_row_width(g);
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * c;
        int8_t *out = output + (size_t)b * g->output.h * g->output.w * c;
        for (oy = 0; oy < g->output.h; oy++) {
            copy_rows(p, image, oy, (int8_t *)scratch, width);
            for (ox = 0; ox < g->output.w; ox++, out += c) {
                const int8_t *px = (const int8_t *)scratch + (size_t)ox * g->stride_w * c;
                dw_pixel(px, px + c, c, width * c, p->filter_dsp, out);
            }
        }
    }
    return FITML_OK;
}
#endif /* FITML_HAS_DSP */
