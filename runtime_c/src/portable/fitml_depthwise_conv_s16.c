/**
 * @file fitml_depthwise_conv_s16.c
 * @brief int16 x int8 DEPTHWISE_CONV_2D (TFLM DepthwiseConvPerChannel, int16 overload): output
 *        channel ic*dm+m reads input channel ic; taps outside the image are skipped.
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

fitml_status fitml_depthwise_conv_s16(const fitml_depthwise_conv_s16_params *p,
                                      const int16_t *input, int16_t *output)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox, oc, ky, kx;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (p->depth_multiplier <= 0 || g->output.c != g->input.c * p->depth_multiplier
        || g->filter.c != g->output.c) {
        return FITML_ERR_ARGUMENT;
    }
    for (b = 0; b < g->output.n; b++) {
        const int16_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                for (oc = 0; oc < g->output.c; oc++) {
                    const int32_t ic = oc / p->depth_multiplier;
                    const int32_t q = p->requant.per_channel ? oc : 0;
                    int64_t acc = 0;
                    for (ky = 0; ky < g->filter.h; ky++) {
                        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
                        if (iy < 0 || iy >= g->input.h) {
                            continue;
                        }
                        for (kx = 0; kx < g->filter.w; kx++) {
                            const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
                            if (ix < 0 || ix >= g->input.w) {
                                continue;
                            }
                            acc += (int32_t)p->filter[((size_t)ky * g->filter.w + kx)
                                                      * g->filter.c + oc]
                                   * (int32_t)image[((size_t)iy * g->input.w + ix)
                                                    * g->input.c + ic];
                        }
                    }
                    *output++ = fitml_requant_s16(fitml_wrap_add64(acc, p->bias[oc]), p->acc32,
                                                  p->requant.multiplier[q], p->requant.shift[q],
                                                  p->act_min, p->act_max);
                }
            }
        }
    }
    return FITML_OK;
}
