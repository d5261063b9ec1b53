/**
 * @file fitml_add_n_s32.c
 * @brief ADD_N int32: the wrapping sum (LiteRT; TFLM has no int32 ADD_N).
 */
#include "fitml_add_n.h"

fitml_status fitml_add_n_s32(const fitml_add_n_params *p, const void *const *inputs,
                             int32_t *output)
{
    int32_t i, j;
    if (p == NULL || fitml_add_n_bad(p->size, p->num_inputs, inputs, output)) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        int32_t acc = 0;
        for (j = 0; j < p->num_inputs; j++) {
            acc = fitml_wrap_add(acc, ((const int32_t *)inputs[j])[i]);
        }
        output[i] = acc;
    }
    return FITML_OK;
}
