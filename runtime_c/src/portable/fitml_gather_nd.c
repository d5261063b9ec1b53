/**
 * @file fitml_gather_nd.c
 * @brief GATHER_ND of any element type: one memcpy per index tuple, coordinates checked.
 */
#include <string.h>

#include "fitml/fitml_data.h"

fitml_status fitml_gather_nd(const fitml_gather_nd_params *p, const void *input,
                             const int32_t *coords, void *output)
{
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    int32_t i, j;
    if (p == NULL || input == NULL || coords == NULL || output == NULL || p->dims == NULL ||
        p->strides == NULL || p->slices < 0 || p->depth < 1 || p->slice_bytes < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->slices; i++) {
        const int32_t *tuple = coords + (size_t)i * (size_t)p->depth;
        size_t from = 0;
        for (j = 0; j < p->depth; j++) {
            if (tuple[j] < 0 || tuple[j] >= p->dims[j]) {
                return FITML_ERR_ARGUMENT;
            }
            from += (size_t)tuple[j] * (size_t)p->strides[j];
        }
        memcpy(dst, src + from, (size_t)p->slice_bytes);
        dst += p->slice_bytes;
    }
    return FITML_OK;
}
