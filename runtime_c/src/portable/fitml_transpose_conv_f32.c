/**
 * @file fitml_transpose_conv_f32.c
 * @brief float32 TRANSPOSE_CONV (TFLM reference_ops::TransposeConv): scatter into the output,
 *        then bias and clamp.
 */
#include "fitml_transpose_conv_loop.h"

#define TCONV_F32_TERM(x, w) ((x) * (w))
#define TCONV_F32_ADD(a, t) ((a) + (t))

fitml_status fitml_transpose_conv_f32(const fitml_transpose_conv_f32_params *p,
                                      const float *input, float *output)
{
    const fitml_conv_geom *g;
    size_t i, total;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    if (!fitml_tconv_geom_ok(g)) {
        return FITML_ERR_ARGUMENT;
    }
    FITML_TCONV_SCATTER(g, input, output, float, TCONV_F32_TERM, TCONV_F32_ADD);
    total = (size_t)g->output.n * g->output.h * g->output.w * g->output.c;
    for (i = 0; i < total; i++) {
        float v = output[i];
        if (p->bias != NULL) {
            v += p->bias[i % (size_t)g->output.c];
        }
        v = v < p->act_min ? p->act_min : v;
        output[i] = v > p->act_max ? p->act_max : v;
    }
    return FITML_OK;
}
