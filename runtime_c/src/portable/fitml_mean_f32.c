/**
 * @file fitml_mean_f32.c
 * @brief float32 MEAN: float sum over the reduced walk, divided by count.
 */
#include "fitml/fitml_reduce.h"
#include "fitml_walk.h"

static float reduce_sum(const fitml_walk *w, const float *base)
{
    int32_t idx[FITML_MAX_DIMS] = {0};
    int32_t offset = 0, i;
    const int32_t inner = w->dims[w->rank - 1], stride = w->strides[w->rank - 1];
    float sum = 0.0f;
    do {
        for (i = 0; i < inner; i++) {
            sum += base[offset + i * stride];
        }
    } while (fitml_walk_next(w, idx, &offset));
    return sum;
}

fitml_status fitml_mean_f32(const fitml_mean_f32_params *p, const float *input, float *output)
{
    int32_t idx[FITML_MAX_DIMS] = {0};
    int32_t offset = 0, i;
    if (p == NULL || input == NULL || output == NULL || p->count <= 0) {
        return FITML_ERR_ARGUMENT;
    }
    if (!fitml_dims_ok(p->outer.rank, p->outer.dims)
        || !fitml_dims_ok(p->inner.rank, p->inner.dims)) {
        return FITML_ERR_UNSUPPORTED;
    }
    if (fitml_dims_count(p->outer.rank, p->outer.dims) == 0) {
        return FITML_OK;
    }
    do {
        for (i = 0; i < p->outer.dims[p->outer.rank - 1]; i++) {
            const int32_t base = offset + i * p->outer.strides[p->outer.rank - 1];
            *output++ = reduce_sum(&p->inner, input + base) / (float)p->count;
        }
    } while (fitml_walk_next(&p->outer, idx, &offset));
    return FITML_OK;
}
