/**
 * @file fitml_split.c
 * @brief SPLIT, SPLIT_V and UNPACK of any element type: raw byte copies, row by row.
 */
#include <string.h>

#include "fitml/fitml_data.h"

fitml_status fitml_split(const fitml_split_params *p, const void *input, void *const *outputs)
{
    const uint8_t *src = (const uint8_t *)input;
    int32_t row, i;
    if (p == NULL || input == NULL || outputs == NULL || p->chunk_bytes == NULL
        || p->num_outputs < 0 || p->outer < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->num_outputs; i++) {
        if (outputs[i] == NULL || p->chunk_bytes[i] < 0) {
            return FITML_ERR_ARGUMENT;
        }
    }
    for (row = 0; row < p->outer; row++) {
        for (i = 0; i < p->num_outputs; i++) {
            const size_t n = (size_t)p->chunk_bytes[i];
            memcpy((uint8_t *)outputs[i] + (size_t)row * n, src, n);
            src += n;
        }
    }
    return FITML_OK;
}
