/**
 * @file fitml_fully_connected_hybrid_f32.c
 * @brief Hybrid FULLY_CONNECTED as LiteRT's EvalHybridDense: each input row quantized
 *        (symmetric, or asymmetric with asymmetric_quantize_inputs), then
 *        bias + acc * (scale * s_row) per output, clamp.
 */
#include "fitml_hybrid_quantize.h"

size_t fitml_fully_connected_hybrid_f32_scratch_size(
    const fitml_fully_connected_hybrid_f32_params *p)
{
    return p == NULL || p->input_size < 0 ? 0 : (size_t)p->input_size;
}

fitml_status fitml_fully_connected_hybrid_f32(const fitml_fully_connected_hybrid_f32_params *p,
                                              const float *input, float *output,
                                              void *scratch)
{
    int8_t *q = (int8_t *)scratch;
    int32_t b, n, k;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL
        || p->scales == NULL || p->batches < 0 || p->input_size < 0 || p->output_size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    if (q == NULL && p->input_size > 0) {
        return FITML_ERR_SCRATCH;
    }
    for (b = 0; b < p->batches; b++) {
        const float *row = input + (size_t)b * p->input_size;
        int32_t zp = 0;
        float s_row;
        if (p->asymmetric) {
            s_row = fitml_quantize_asymmetric(row, p->input_size, q, &zp);
        } else {
            s_row = fitml_quantize_symmetric(row, p->input_size, q);
        }
        for (n = 0; n < p->output_size; n++) {
            const int8_t *w = p->filter + (size_t)n * p->input_size;
            const float scale = p->scales[p->per_channel ? n : 0] * s_row;
            uint32_t acc = 0u;
            float product, y;
            for (k = 0; k < p->input_size; k++) {
                acc += (uint32_t)(((int32_t)q[k] - zp) * (int32_t)w[k]);
            }
            product = (float)(int32_t)acc * scale;
            y = (p->bias != NULL ? p->bias[n] : 0.0f) + product;
            output[n] = fitml_hybrid_clamp(y, p->act_min, p->act_max);
        }
        output += p->output_size;
    }
    return FITML_OK;
}
