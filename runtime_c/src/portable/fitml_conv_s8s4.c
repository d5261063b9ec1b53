/**
 * @file fitml_conv_s8s4.c
 * @brief int8 CONV_2D with packed int4 filter: im2col per output pixel, int8 x int4 dot
 *        products unpacking the filter on the fly (TFLM ConvPerChannel on the unpacked filter;
 *        the loop: fitml_weighted_loop.h).
 */
#include "fitml/fitml_int4.h"
#include "fitml_s4.h"
#include "fitml_weighted_loop.h"

size_t fitml_conv_s8s4_scratch_size(const fitml_conv_s8s4_params *p)
{
    if (p == NULL || fitml_conv_reads_in_place(&p->geom)) {
        return 0;
    }
    return (size_t)p->geom.filter.h * (size_t)p->geom.filter.w * (size_t)p->geom.filter.c;
}

FITML_DEFINE_CONV_IM2COL(fitml_conv_s8s4, fitml_conv_s8s4_params, fitml_dot_s8s4)
