/**
 * @file fitml_arg_max_s8.c
 * @brief ARG_MAX of int8_t values: the first index holding the greatest value, as TFLM.
 */
#include "fitml/fitml_reduce.h"

fitml_status fitml_arg_max_s8(const fitml_arg_max_params *p, const int8_t *input, int32_t *output)
{
    int32_t o, j, i;
    if (p == NULL || input == NULL || output == NULL || p->axis_size < 1) {
        return FITML_ERR_ARGUMENT;
    }
    for (o = 0; o < p->outer; o++) {
        const int8_t *slab = input + (size_t)o * p->axis_size * p->inner;
        for (j = 0; j < p->inner; j++) {
            int8_t best = slab[j];
            int32_t index = 0;
            for (i = 1; i < p->axis_size; i++) {
                const int8_t value = slab[(size_t)i * p->inner + j];
                if (value > best) {
                    best = value;
                    index = i;
                }
            }
            *output++ = index;
        }
    }
    return FITML_OK;
}
