/**
 * @file fitml_depthwise_conv_s8s4.c
 * @brief int8 DEPTHWISE_CONV_2D with packed int4 filter (TFLM DepthwiseConvPerChannel on the
 *        unpacked filter; the loop: fitml_weighted_loop.h fitml_depthwise_loop).
 */
#include "fitml/fitml_int4.h"
#include "fitml_s4.h"
#include "fitml_weighted_loop.h"

size_t fitml_depthwise_conv_s8s4_scratch_size(const fitml_depthwise_conv_s8s4_params *p)
{
    return p == NULL ? 0 : (size_t)p->geom.output.c * sizeof(int32_t);
}

/* acc[ic*dm + m] += w[base + ic*dm + m] * x[ic] (x NULL: the padded value zp). */
static void accumulate(uint32_t *acc, const uint8_t *filter, size_t base, const int8_t *x,
                       int32_t zp, int32_t channels, int32_t dm)
{
    int32_t ic, m;
    for (ic = 0; ic < channels; ic++) {
        const int32_t v = x == NULL ? zp : (int32_t)x[ic];
        for (m = 0; m < dm; m++) {
            const int32_t oc = ic * dm + m;
            acc[oc] += (uint32_t)(fitml_s4_at(filter, base + (size_t)oc) * v);
        }
    }
}

FITML_DEFINE_DEPTHWISE(fitml_depthwise_conv_s8s4, fitml_depthwise_conv_s8s4_params, accumulate)
