/**
 * @file fitml_concat.c
 * @brief CONCATENATION of any element type: raw byte copies, row by row.
 */
#include <string.h>

#include "fitml/fitml_data.h"

fitml_status fitml_concat(const fitml_concat_params *p, const void *const *inputs,
                          void *output)
{
    uint8_t *dst = (uint8_t *)output;
    int32_t row, i;
    if (p == NULL || inputs == NULL || output == NULL || p->chunk_bytes == NULL
        || p->num_inputs < 0 || p->outer < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->num_inputs; i++) {
        if (inputs[i] == NULL || p->chunk_bytes[i] < 0) {
            return FITML_ERR_ARGUMENT;
        }
    }
    for (row = 0; row < p->outer; row++) {
        for (i = 0; i < p->num_inputs; i++) {
            const size_t n = (size_t)p->chunk_bytes[i];
            memcpy(dst, (const uint8_t *)inputs[i] + (size_t)row * n, n);
            dst += n;
        }
    }
    return FITML_OK;
}
