/**
 * @file fitml_mirror_pad.c
 * @brief MIRROR_PAD of any element type: each output element copied from the input element
 *        TFLM's GetInputDimension picks along every dimension (raw bytes).
 */
#include <string.h>

#include "fitml/fitml_data.h"
#include "fitml_walk.h"

/* TFLM's GetInputDimension: the input index of output index i along one dimension. */
static int32_t source_index(int32_t i, int32_t before, int32_t size, int32_t offset)
{
    int32_t last;
    if (i < before) {
        last = before + offset - 1;
        return last - (i < last - offset ? i : last - offset);
    }
    i -= before;
    if (i >= size) {
        i -= size;
        last = size - (1 + offset);
        return last - (i < last ? i : last);
    }
    return i;
}

fitml_status fitml_mirror_pad(const fitml_mirror_pad_params *p, const void *input, void *output)
{
    int32_t out_dims[FITML_MAX_DIMS], in_strides[FITML_MAX_DIMS], idx[FITML_MAX_DIMS] = {0};
    int32_t d, rank, inner, i, row;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    size_t es;
    if (p == NULL || input == NULL || output == NULL || p->elem_size < 1 ||
        (p->offset != 0 && p->offset != 1)) {
        return FITML_ERR_ARGUMENT;
    }
    rank = p->rank;
    if (!fitml_dims_ok(rank, p->in_dims)) {
        return FITML_ERR_UNSUPPORTED;
    }
    for (d = 0; d < rank; d++) {
        if (p->pad_before[d] < 0 || p->pad_after[d] < 0 ||
            p->pad_before[d] > p->in_dims[d] - p->offset ||
            p->pad_after[d] > p->in_dims[d] - p->offset) {
            return FITML_ERR_ARGUMENT;
        }
        out_dims[d] = p->in_dims[d] + p->pad_before[d] + p->pad_after[d];
    }
    if (fitml_dims_count(rank, p->in_dims) == 0) {
        return FITML_OK;
    }
    in_strides[rank - 1] = 1;
    for (d = rank - 2; d >= 0; d--) {
        in_strides[d] = in_strides[d + 1] * p->in_dims[d + 1];
    }
    es = (size_t)p->elem_size;
    inner = out_dims[rank - 1];
    for (;;) {
        row = 0;
        for (d = 0; d < rank - 1; d++) {
            row += source_index(idx[d], p->pad_before[d], p->in_dims[d], p->offset) *
                   in_strides[d];
        }
        for (i = 0; i < inner; i++) {
            int32_t at = row + source_index(i, p->pad_before[rank - 1], p->in_dims[rank - 1],
                                            p->offset);
            memcpy(dst, src + (size_t)at * es, es);
            dst += es;
        }
        for (d = rank - 2; d >= 0; d--) {
            if (++idx[d] < out_dims[d]) {
                break;
            }
            idx[d] = 0;
        }
        if (d < 0) {
            return FITML_OK;
        }
    }
}
