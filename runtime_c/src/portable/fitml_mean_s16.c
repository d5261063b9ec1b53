/**
 * @file fitml_mean_s8.c
 * @brief int16 MEAN (TFLM QuantizedMeanOrSum): int32 raw sum over the reduced walk, minus
 *        input_zp * count, requantized by a multiplier with 1/count folded in.
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"
#include "fitml_walk.h"

/* Wrapping int32 sum of the inner walk starting at `base`. */
static int32_t reduce_sum(const fitml_walk *w, const int16_t *base)
{
    int32_t idx[FITML_MAX_DIMS] = {0};
    int32_t offset = 0, i;
    const int32_t inner = w->dims[w->rank - 1], stride = w->strides[w->rank - 1];
    uint32_t sum = 0u;
    do {
        for (i = 0; i < inner; i++) {
            sum += (uint32_t)(int32_t)base[offset + i * stride];
        }
    } while (fitml_walk_next(w, idx, &offset));
    return (int32_t)sum;
}

fitml_status fitml_mean_s16(const fitml_mean_s8_params *p, const int16_t *input,
                            int16_t *output)
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
            const int32_t sum = fitml_wrap_sub(
                reduce_sum(&p->inner, input + base),
                (int32_t)((uint32_t)p->input_zp * (uint32_t)p->count));
            *output++ = (int16_t)fitml_clamp(
                fitml_mbqm(sum, p->multiplier, p->shift) + p->output_zp, -32768, 32767);
        }
    } while (fitml_walk_next(&p->outer, idx, &offset));
    return FITML_OK;
}
