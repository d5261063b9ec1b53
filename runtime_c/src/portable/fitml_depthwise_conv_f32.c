/**
 * @file fitml_depthwise_conv_f32.c
 * @brief float32 DEPTHWISE_CONV_2D in TFLite reference order (taps ky, kx), + bias, clamp.
 */
#include "fitml/fitml_conv.h"

fitml_status fitml_depthwise_conv_f32(const fitml_depthwise_conv_f32_params *p,
                                      const float *input, float *output)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox, oc, ky, kx, cout, dm;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    cout = g->output.c;
    dm = p->depth_multiplier;
    if (dm <= 0 || g->input.c * dm != cout || g->filter.c != cout) {
        return FITML_ERR_ARGUMENT;
    }
    for (b = 0; b < g->output.n; b++) {
        const float *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                for (oc = 0; oc < cout; oc++) {
                    float total = 0.0f;
                    for (ky = 0; ky < g->filter.h; ky++) {
                        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
                        for (kx = 0; kx < g->filter.w; kx++) {
                            const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
                            if (iy < 0 || iy >= g->input.h || ix < 0 || ix >= g->input.w) {
                                continue;
                            }
                            total += image[((size_t)iy * g->input.w + ix) * g->input.c
                                           + oc / dm]
                                     * p->filter[((size_t)ky * g->filter.w + kx) * cout + oc];
                        }
                    }
                    total += p->bias != NULL ? p->bias[oc] : 0.0f;
                    total = total < p->act_min ? p->act_min : total;
                    *output++ = total > p->act_max ? p->act_max : total;
                }
            }
        }
    }
    return FITML_OK;
}
