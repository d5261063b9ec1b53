/**
 * @file fitml_depthwise_conv_s8.c
 * @brief int8 DEPTHWISE_CONV_2D (TFLM DepthwiseConvPerChannel).
 *
 * Per output pixel, one int32 accumulator per output channel (scratch) starts at the folded
 * bias; each valid tap adds filter * x over contiguous channels. A tap outside the image adds
 * filter * input_zp, undoing its share of the folding, so the total equals TFLM's.
 */
#include "fitml/fitml_conv.h"
#include "fitml/fitml_support.h"

size_t fitml_depthwise_conv_s8_scratch_size(const fitml_depthwise_conv_s8_params *p)
{
    /* shared with the DSP variant (its input plane may be larger than the accumulators) */
    return p == NULL ? 0 : fitml_depthwise_conv_s8_scratch_bytes(&p->geom, p->depth_multiplier);
}

/* acc[ic*dm + m] += filter[ic*dm + m] * x[ic] (x NULL: the padded value input_zp). */
static void accumulate(uint32_t *acc, const int8_t *w, const int8_t *x, int32_t zp,
                       int32_t channels, int32_t dm)
{
    int32_t ic, m;
    if (x == NULL) {
        for (ic = 0; ic < channels * dm; ic++) {
            acc[ic] += (uint32_t)((int32_t)w[ic] * zp);
        }
    } else if (dm == 1) {
        for (ic = 0; ic < channels; ic++) {
            acc[ic] += (uint32_t)((int32_t)w[ic] * (int32_t)x[ic]);
        }
    } else {
        for (ic = 0; ic < channels; ic++) {
            for (m = 0; m < dm; m++) {
                acc[ic * dm + m] += (uint32_t)((int32_t)w[ic * dm + m] * (int32_t)x[ic]);
            }
        }
    }
}

fitml_status fitml_depthwise_conv_s8(const fitml_depthwise_conv_s8_params *p,
                                     const int8_t *input, int8_t *output, void *scratch)
{
    const fitml_conv_geom *g;
    uint32_t *acc = (uint32_t *)scratch;
    int32_t b, oy, ox, ky, kx, oc, cout;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    cout = g->output.c;
    if (p->depth_multiplier <= 0 || g->input.c * p->depth_multiplier != cout
        || g->filter.c != cout) {
        return FITML_ERR_ARGUMENT;
    }
    if (acc == NULL) {
        return FITML_ERR_SCRATCH;
    }
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                for (oc = 0; oc < cout; oc++) {
                    acc[oc] = (uint32_t)p->bias[oc];
                }
                for (ky = 0; ky < g->filter.h; ky++) {
                    const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
                    for (kx = 0; kx < g->filter.w; kx++) {
                        const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
                        const int8_t *w = p->filter + ((size_t)ky * g->filter.w + kx) * cout;
                        const int8_t *x = NULL;
                        if (iy >= 0 && iy < g->input.h && ix >= 0 && ix < g->input.w) {
                            x = image + ((size_t)iy * g->input.w + ix) * g->input.c;
                        }
                        accumulate(acc, w, x, p->input_zp, g->input.c, p->depth_multiplier);
                    }
                }
                for (oc = 0; oc < cout; oc++) {
                    const int32_t q = p->requant.per_channel ? oc : 0;
                    output[oc] = fitml_requant_s8((int32_t)acc[oc], p->requant.multiplier[q],
                                                  p->requant.shift[q], p->output_zp,
                                                  p->act_min, p->act_max);
                }
                output += cout;
            }
        }
    }
    return FITML_OK;
}
