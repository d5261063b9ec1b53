/**
 * @file fitml_pad.c
 * @brief PAD / PADV2 of any element type: fill the output with the pad element, then copy the
 *        input rows into place (raw bytes, as TFLM).
 */
#include <string.h>

#include "fitml/fitml_data.h"
#include "fitml_walk.h"

/* Fills n elements of es bytes with the pattern. */
static void fill(uint8_t *dst, int32_t n, const uint8_t *pattern, size_t es)
{
    int32_t i;
    if (es == 1) {
        memset(dst, pattern[0], (size_t)n);
        return;
    }
    for (i = 0; i < n; i++) {
        memcpy(dst + (size_t)i * es, pattern, es);
    }
}

fitml_status fitml_pad(const fitml_pad_params *p, const void *input, void *output)
{
    int32_t out_strides[FITML_MAX_DIMS], idx[FITML_MAX_DIMS] = {0};
    int32_t d, rank, row_bytes;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    size_t es;
    if (p == NULL || input == NULL || output == NULL || p->elem_size < 1 || p->elem_size > 8) {
        return FITML_ERR_ARGUMENT;
    }
    rank = p->rank;
    if (!fitml_dims_ok(rank, p->in_dims) || !fitml_dims_ok(rank, p->out_dims)) {
        return FITML_ERR_UNSUPPORTED;
    }
    for (d = 0; d < rank; d++) {
        if (p->pad_before[d] < 0 || p->pad_before[d] + p->in_dims[d] > p->out_dims[d]) {
            return FITML_ERR_ARGUMENT;
        }
    }
    es = (size_t)p->elem_size;
    fill(dst, fitml_dims_count(rank, p->out_dims), p->pad_value, es);
    if (fitml_dims_count(rank, p->in_dims) == 0) {
        return FITML_OK;
    }
    out_strides[rank - 1] = 1;
    for (d = rank - 2; d >= 0; d--) {
        out_strides[d] = out_strides[d + 1] * p->out_dims[d + 1];
    }
    row_bytes = p->in_dims[rank - 1] * p->elem_size;
    for (;;) {
        size_t at = (size_t)p->pad_before[rank - 1];
        for (d = 0; d < rank - 1; d++) {
            at += (size_t)(idx[d] + p->pad_before[d]) * (size_t)out_strides[d];
        }
        memcpy(dst + at * es, src, (size_t)row_bytes);
        src += row_bytes;
        for (d = rank - 2; d >= 0; d--) {
            if (++idx[d] < p->in_dims[d]) {
                break;
            }
            idx[d] = 0;
        }
        if (d < 0) {
            return FITML_OK;
        }
    }
}
