/**
 * @file fitml_depthwise_conv_s8.c
 * @brief int8 DEPTHWISE_CONV_2D (TFLM DepthwiseConvPerChannel; the loop:
 *        fitml_weighted_loop.h fitml_depthwise_loop).
 */
#include "fitml/fitml_conv.h"
#include "fitml_weighted_loop.h"

size_t fitml_depthwise_conv_s8_scratch_size(const fitml_depthwise_conv_s8_params *p)
{
    /* shared with the DSP variant (its input plane may be larger than the accumulators) */
    return p == NULL ? 0 : fitml_depthwise_conv_s8_scratch_bytes(&p->geom, p->depth_multiplier);
}

/* acc[ic*dm + m] += filter[base + ic*dm + m] * x[ic] (x NULL: the padded value input_zp). */
static void accumulate(uint32_t *acc, const int8_t *filter, size_t base, const int8_t *x,
                       int32_t zp, int32_t channels, int32_t dm)
{
    const int8_t *w = filter + base;
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

FITML_DEFINE_DEPTHWISE(fitml_depthwise_conv_s8, fitml_depthwise_conv_s8_params, accumulate)
