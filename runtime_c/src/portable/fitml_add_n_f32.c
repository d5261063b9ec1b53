/**
 * @file fitml_add_n_f32.c
 * @brief ADD_N float32: summed in input order from 0.0f (reference_ops::AddN<float>).
 */
#include "fitml_add_n.h"

fitml_status fitml_add_n_f32(const fitml_add_n_params *p, const void *const *inputs,
                             float *output)
{
    int32_t i, j;
    if (p == NULL || fitml_add_n_bad(p->size, p->num_inputs, inputs, output)) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        float acc = 0.0f;
        for (j = 0; j < p->num_inputs; j++) {
            acc += ((const float *)inputs[j])[i];
        }
        output[i] = acc;
    }
    return FITML_OK;
}
