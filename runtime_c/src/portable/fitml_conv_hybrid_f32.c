/**
 * @file fitml_conv_hybrid_f32.c
 * @brief Hybrid CONV_2D (float32 activations, int8 filter) as LiteRT's conv.cc: EvalHybrid
 *        (symmetric input, acc * (s_in * scale[0])) or EvalHybridPerChannel (asymmetric
 *        input, acc * scale[c] * s_in), then + bias and the clamp.
 *
 * Each batch is quantized into scratch; taps outside the image are skipped, which equals
 * LiteRT's im2col padding with the zero point (they contribute 0).
 */
#include "fitml_hybrid_quantize.h"

size_t fitml_conv_hybrid_f32_scratch_size(const fitml_conv_hybrid_f32_params *p)
{
    if (p == NULL) {
        return 0;
    }
    return (size_t)p->geom.input.h * (size_t)p->geom.input.w * (size_t)p->geom.input.c;
}

/* sum over the receptive field of (q - zp) * filter, wrapping in 32 bits */
static int32_t conv_acc(const fitml_conv_geom *g, const int8_t *q, int32_t zp,
                        const int8_t *w, int32_t oy, int32_t ox, int32_t c0)
{
    uint32_t acc = 0u;
    int32_t ky, kx, ic;
    for (ky = 0; ky < g->filter.h; ky++) {
        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
        for (kx = 0; kx < g->filter.w; kx++) {
            const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
            const int8_t *xq, *wt;
            if (iy < 0 || iy >= g->input.h || ix < 0 || ix >= g->input.w) {
                continue;
            }
            xq = q + ((size_t)iy * g->input.w + ix) * g->input.c + c0;
            wt = w + ((size_t)ky * g->filter.w + kx) * g->filter.c;
            for (ic = 0; ic < g->filter.c; ic++) {
                acc += (uint32_t)(((int32_t)xq[ic] - zp) * (int32_t)wt[ic]);
            }
        }
    }
    return (int32_t)acc;
}

fitml_status fitml_conv_hybrid_f32(const fitml_conv_hybrid_f32_params *p, const float *input,
                                   float *output, void *scratch)
{
    const fitml_conv_geom *g;
    int8_t *q = (int8_t *)scratch;
    int32_t b, oy, ox, oc, per_group, image, taps;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL
        || p->scales == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (g->filter.c <= 0 || g->input.c % g->filter.c != 0 || g->filter.n != g->output.c
        || g->output.c % (g->input.c / g->filter.c) != 0) {
        return FITML_ERR_ARGUMENT;
    }
    image = g->input.h * g->input.w * g->input.c;
    if (q == NULL && image > 0) {
        return FITML_ERR_SCRATCH;
    }
    per_group = g->output.c / (g->input.c / g->filter.c);
    taps = g->filter.h * g->filter.w * g->filter.c;
    for (b = 0; b < g->output.n; b++) {
        int32_t zp = 0;
        float s_in, s_tensor;
        if (p->per_channel) {
            s_in = fitml_quantize_asymmetric(input + (size_t)b * image, image, q, &zp);
        } else {
            s_in = fitml_quantize_symmetric(input + (size_t)b * image, image, q);
        }
        s_tensor = s_in * p->scales[0];
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                for (oc = 0; oc < g->output.c; oc++) {
                    const float acc = (float)conv_acc(g, q, zp, p->filter + (size_t)oc * taps,
                                                      oy, ox, (oc / per_group) * g->filter.c);
                    float y;
                    if (p->per_channel) {
                        const float scaled = acc * p->scales[oc];
                        y = scaled * s_in;
                    } else {
                        y = acc * s_tensor;
                    }
                    y = y + (p->bias != NULL ? p->bias[oc] : 0.0f);
                    *output++ = fitml_hybrid_clamp(y, p->act_min, p->act_max);
                }
            }
        }
    }
    return FITML_OK;
}
