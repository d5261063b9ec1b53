/**
 * @file fitml_select.c
 * @brief SELECT_V2 (TFLM BroadcastSelect5DSlow / Select): out = cond ? x : y, byte-generic.
 */
#include <string.h>

#include "fitml/fitml_data.h"
#include "fitml_walk.h"

fitml_status fitml_select(const fitml_select_params *p, const uint8_t *condition,
                          const void *x, const void *y, void *output)
{
    int32_t idx[FITML_MAX_DIMS] = {0};
    int32_t oc = 0, ox = 0, oy = 0, i, d, inner;
    const uint8_t *bx = (const uint8_t *)x, *by = (const uint8_t *)y;
    uint8_t *out = (uint8_t *)output;
    size_t es;
    if (p == NULL || condition == NULL || x == NULL || y == NULL || output == NULL
        || p->elem_size < 1 || p->elem_size > 8) {
        return FITML_ERR_ARGUMENT;
    }
    if (p->rank < 1 || p->rank > FITML_MAX_DIMS) {
        return FITML_ERR_UNSUPPORTED;
    }
    if (!fitml_dims_ok(p->rank, p->dims)) {
        return FITML_ERR_ARGUMENT;
    }
    if (fitml_dims_count(p->rank, p->dims) == 0) {
        return FITML_OK;
    }
    es = (size_t)p->elem_size;
    inner = p->dims[p->rank - 1];
    for (;;) {
        for (i = 0; i < inner; i++) {
            const int pick = condition[oc + i * p->strides_cond[p->rank - 1]] != 0u;
            const uint8_t *src = pick ? bx + (size_t)(ox + i * p->strides_x[p->rank - 1]) * es
                                      : by + (size_t)(oy + i * p->strides_y[p->rank - 1]) * es;
            memcpy(out, src, es);
            out += es;
        }
        for (d = p->rank - 2; d >= 0; d--) {
            oc += p->strides_cond[d];
            ox += p->strides_x[d];
            oy += p->strides_y[d];
            if (++idx[d] < p->dims[d]) {
                break;
            }
            oc -= p->strides_cond[d] * p->dims[d];
            ox -= p->strides_x[d] * p->dims[d];
            oy -= p->strides_y[d] * p->dims[d];
            idx[d] = 0;
        }
        if (d < 0) {
            return FITML_OK;
        }
    }
}
