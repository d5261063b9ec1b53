/**
 * @file fitml_gather.h
 * @brief Internal: the strided gather behind TRANSPOSE and STRIDED_SLICE.
 */
#ifndef FITML_GATHER_H
#define FITML_GATHER_H

#include <string.h>

#include "fitml_walk.h"

/** @brief output[j] = input[offset + walk(j)] for elements of elem_size bytes. */
static inline fitml_status fitml_gather(const fitml_gather_params *p, const void *input,
                                        void *output)
{
    int32_t idx[FITML_MAX_DIMS] = {0};
    int32_t offset, i, inner, stride;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    size_t es;
    if (p == NULL || input == NULL || output == NULL || p->elem_size <= 0) {
        return FITML_ERR_ARGUMENT;
    }
    if (!fitml_dims_ok(p->walk.rank, p->walk.dims)) {
        return FITML_ERR_UNSUPPORTED;
    }
    if (fitml_dims_count(p->walk.rank, p->walk.dims) == 0) {
        return FITML_OK;
    }
    es = (size_t)p->elem_size;
    offset = p->offset;
    inner = p->walk.dims[p->walk.rank - 1];
    stride = p->walk.strides[p->walk.rank - 1];
    do {
        if (stride == 1) {
            memcpy(dst, src + (ptrdiff_t)offset * (ptrdiff_t)es, (size_t)inner * es);
            dst += (size_t)inner * es;
        } else if (es == 1) {
            for (i = 0; i < inner; i++) {
                *dst++ = src[offset + i * stride];
            }
        } else {
            for (i = 0; i < inner; i++) {
                memcpy(dst, src + (ptrdiff_t)(offset + i * stride) * (ptrdiff_t)es, es);
                dst += es;
            }
        }
    } while (fitml_walk_next(&p->walk, idx, &offset));
    return FITML_OK;
}

#endif /* FITML_GATHER_H */
