/**
 * @file fitml_transpose_conv_s16.c
 * @brief int16 x int8 TRANSPOSE_CONV (TFLM reference_integer_ops::TransposeConv, int16
 *        overload with int64 scratch): exact sums, + bias, fitml_mbqm64, clamp.
 */
#include "fitml_transpose_conv_loop.h"

#define TCONV_S16_TERM(x, w) ((int64_t)((int32_t)(x) * (int32_t)(w)))  /* |x*w| <= 2^22 */

size_t fitml_transpose_conv_s16_scratch_size(const fitml_transpose_conv_s16_params *p)
{
    if (p == NULL) {
        return 0;
    }
    return (size_t)p->geom.output.n * p->geom.output.h * p->geom.output.w * p->geom.output.c
           * sizeof(int64_t);
}

fitml_status fitml_transpose_conv_s16(const fitml_transpose_conv_s16_params *p,
                                      const int16_t *input, int16_t *output, void *scratch)
{
    const fitml_conv_geom *g;
    int64_t *acc = (int64_t *)scratch;
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
    FITML_TCONV_SCATTER(g, input, acc, int64_t, TCONV_S16_TERM, fitml_wrap_add64);
    total = (size_t)g->output.n * g->output.h * g->output.w * g->output.c;
    for (i = 0; i < total; i++) {
        const int32_t oc = (int32_t)(i % (size_t)g->output.c);
        const int32_t q = p->requant.per_channel ? oc : 0;
        const int64_t sum = p->bias != NULL ? fitml_wrap_add64(acc[i], p->bias[oc]) : acc[i];
        output[i] = fitml_requant_s16(sum, 0, p->requant.multiplier[q], p->requant.shift[q],
                                      p->act_min, p->act_max);
    }
    return FITML_OK;
}
