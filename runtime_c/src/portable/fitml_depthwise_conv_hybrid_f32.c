/**
 * @file fitml_depthwise_conv_hybrid_f32.c
 * @brief Hybrid DEPTHWISE_CONV_2D as LiteRT's DepthwiseConvHybridPerChannel: asymmetric input
 *        per batch, acc * (scale[c] * s_in), + bias, clamp. Taps outside the image are
 *        skipped (LiteRT pads with the zero point: they contribute 0).
 */
#include "fitml_hybrid_quantize.h"

size_t fitml_depthwise_conv_hybrid_f32_scratch_size(
    const fitml_depthwise_conv_hybrid_f32_params *p)
{
    if (p == NULL) {
        return 0;
    }
    return (size_t)p->geom.input.h * (size_t)p->geom.input.w * (size_t)p->geom.input.c;
}

fitml_status fitml_depthwise_conv_hybrid_f32(const fitml_depthwise_conv_hybrid_f32_params *p,
                                             const float *input, float *output, void *scratch)
{
    const fitml_conv_geom *g;
    const int8_t *q = (const int8_t *)scratch;
    int32_t b, oy, ox, oc, ky, kx, cout, dm, image;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL
        || p->scales == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    cout = g->output.c;
    dm = p->depth_multiplier;
    if (dm <= 0 || g->input.c * dm != cout || g->filter.c != cout) {
        return FITML_ERR_ARGUMENT;
    }
    image = g->input.h * g->input.w * g->input.c;
    if (q == NULL && image > 0) {
        return FITML_ERR_SCRATCH;
    }
    for (b = 0; b < g->output.n; b++) {
        int32_t zp = 0;
        const float s_in = fitml_quantize_asymmetric(input + (size_t)b * image, image,
                                                     (int8_t *)scratch, &zp);
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                for (oc = 0; oc < cout; oc++) {
                    uint32_t acc = 0u;
                    float scale, y;
                    for (ky = 0; ky < g->filter.h; ky++) {
                        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
                        for (kx = 0; kx < g->filter.w; kx++) {
                            const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
                            int32_t x;
                            if (iy < 0 || iy >= g->input.h || ix < 0 || ix >= g->input.w) {
                                continue;
                            }
                            x = q[((size_t)iy * g->input.w + ix) * g->input.c + oc / dm];
                            acc += (uint32_t)((x - zp) * (int32_t)p->filter[
                                ((size_t)ky * g->filter.w + kx) * cout + oc]);
                        }
                    }
                    scale = p->scales[oc] * s_in;
                    y = (float)(int32_t)acc * scale;
                    y = y + (p->bias != NULL ? p->bias[oc] : 0.0f);
                    *output++ = fitml_hybrid_clamp(y, p->act_min, p->act_max);
                }
            }
        }
    }
    return FITML_OK;
}
