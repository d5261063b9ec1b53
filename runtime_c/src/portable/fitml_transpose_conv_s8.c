/**
 * @file fitml_transpose_conv_s8.c
 * @brief int8 TRANSPOSE_CONV (TFLM reference_integer_ops::TransposeConv, per channel): int32
 *        scatter sums in scratch (wrapping as TFLM's int32 does), + bias, MBQM, + zp, clamp.
 */
#include "fitml_transpose_conv_loop.h"

#define TCONV_S8_TERM(x, w) (((int32_t)(x) - p->input_zp) * (int32_t)(w))

size_t fitml_transpose_conv_s8_scratch_size(const fitml_transpose_conv_s8_params *p)
{
    if (p == NULL) {
        return 0;
    }
    return (size_t)p->geom.output.n * p->geom.output.h * p->geom.output.w * p->geom.output.c
           * sizeof(int32_t);
}

fitml_status fitml_transpose_conv_s8(const fitml_transpose_conv_s8_params *p,
                                     const int8_t *input, int8_t *output, void *scratch)
{
    const fitml_conv_geom *g;
    int32_t *acc = (int32_t *)scratch;
    size_t i, total;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    if (scratch == NULL) {
        return FITML_ERR_SCRATCH;
    }
    g = &p->geom;
    if (!fitml_tconv_geom_ok(g)) {
        return FITML_ERR_ARGUMENT;
    }
    FITML_TCONV_SCATTER(g, input, acc, int32_t, TCONV_S8_TERM, fitml_wrap_add);
    total = (size_t)g->output.n * g->output.h * g->output.w * g->output.c;
    for (i = 0; i < total; i++) {
        const int32_t oc = (int32_t)(i % (size_t)g->output.c);
        const int32_t q = p->requant.per_channel ? oc : 0;
        const int32_t sum = p->bias != NULL ? fitml_wrap_add(acc[i], p->bias[oc]) : acc[i];
        output[i] = fitml_requant_s8(sum, p->requant.multiplier[q], p->requant.shift[q],
                                     p->output_zp, p->act_min, p->act_max);
    }
    return FITML_OK;
}
