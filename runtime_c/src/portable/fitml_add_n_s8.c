/**
 * @file fitml_add_n_s8.c
 * @brief ADD_N int8 (TFLM reference_ops::AddN with ArithmeticParams).
 */
#include "fitml_add_n.h"

/* MultiplyByQuantizedMultiplierSmallerThanOneExp of (v << 20): shift <= 0. */
static int32_t fitml_add_n_scale(int32_t v, int32_t m, int32_t shift)
{
    return fitml_rdbpot(fitml_srdhm(fitml_wrap_shl(v, 20), m), -shift);
}

fitml_status fitml_add_n_s8(const fitml_add_n_s8_params *p, const void *const *inputs,
                            int8_t *output)
{
    int32_t i, j, start;
    if (p == NULL || fitml_add_n_bad(p->size, p->num_inputs, inputs, output) ||
        p->input_shift > 0 || p->output_shift > 0) {
        return FITML_ERR_ARGUMENT;
    }
    start = fitml_add_n_scale(-p->input_zp, p->input_multiplier, p->input_shift);
    for (i = 0; i < p->size; i++) {
        int32_t acc = start;
        for (j = 0; j < p->num_inputs; j++) {
            const int32_t v = ((const int8_t *)inputs[j])[i] - p->input_zp;
            acc = fitml_wrap_add(acc, fitml_add_n_scale(v, p->input_multiplier, p->input_shift));
        }
        acc = fitml_rdbpot(fitml_srdhm(acc, p->output_multiplier), -p->output_shift)
            + p->output_zp;
        output[i] = (int8_t)fitml_clamp(acc, -128, 127);
    }
    return FITML_OK;
}
