/**
 * @file fitml_mean_loop.h
 * @brief Internal: the one reduction loop (MEAN, SUM, REDUCE_MAX), stamped out per kernel by
 *        FITML_DEFINE_REDUCE: a fold over the inner (reduced) walk of every outer position,
 *        in input order (TFLM's ReduceGeneric order).
 */
#ifndef FITML_MEAN_LOOP_H
#define FITML_MEAN_LOOP_H

#include "fitml/fitml_reduce.h"
#include "fitml/fitml_support.h"
#include "fitml_walk.h"

/** @brief Integer MEAN output (TFLM QuantizedMeanOrSum): the wrapping raw sum minus
 *         input_zp * count, requantized (1/count folded into the multiplier), clamped. */
static inline int32_t fitml_mean_requant(const fitml_mean_s8_params *p, uint32_t sum,
                                         int32_t lo, int32_t hi)
{
    const int32_t centered = fitml_wrap_sub(
        (int32_t)sum, (int32_t)((uint32_t)p->input_zp * (uint32_t)p->count));
    return fitml_clamp(fitml_mbqm(centered, p->multiplier, p->shift) + p->output_zp, lo, hi);
}

/* Finishes: the output value from the sum (ACC) of p->count inputs. */
#define FITML_MEAN_F32(p, sum) ((sum) / (float)(p)->count)
#define FITML_MEAN_S8(p, sum) fitml_mean_requant(p, sum, -128, 127)
#define FITML_MEAN_S16(p, sum) fitml_mean_requant(p, sum, -32768, 32767)
#define FITML_REDUCE_ADD(acc, v) ((acc) + (v))
#define FITML_REDUCE_MAX(acc, v) ((v) > (acc) ? (v) : (acc))
#define FITML_REDUCE_KEEP(p, acc) (acc)

/**
 * Defines `fitml_status NAME(const PARAMS *p, const T *input, T *output)` and its helper
 * `NAME##_sum` (ACC acc = INIT, then acc = STEP(acc, (ACC)x) over the inner walk from `base`;
 * uint32_t wraps for the integer sums): *output++ = (T)DONE(p, acc) per outer position.
 */
#define FITML_DEFINE_MEAN(NAME, PARAMS, T, ACC, DONE)                                            \
    FITML_DEFINE_REDUCE(NAME, PARAMS, T, ACC, 0, FITML_REDUCE_ADD, DONE)

/** As FITML_DEFINE_MEAN with any fold: INIT the first accumulator, STEP(acc, value). */
#define FITML_DEFINE_REDUCE(NAME, PARAMS, T, ACC, INIT, STEP, DONE)                              \
    static ACC NAME##_sum(const fitml_walk *w, const T *base)                                    \
    {                                                                                            \
        int32_t idx[FITML_MAX_DIMS] = {0};                                                       \
        int32_t offset = 0, i;                                                                   \
        const int32_t inner = w->dims[w->rank - 1], stride = w->strides[w->rank - 1];           \
        ACC sum = (INIT);                                                                        \
        do {                                                                                     \
            for (i = 0; i < inner; i++) {                                                        \
                sum = STEP(sum, (ACC)base[offset + i * stride]);                                 \
            }                                                                                    \
        } while (fitml_walk_next(w, idx, &offset));                                              \
        return sum;                                                                              \
    }                                                                                            \
                                                                                                 \
    fitml_status NAME(const PARAMS *p, const T *input, T *output)                                \
    {                                                                                            \
        int32_t idx[FITML_MAX_DIMS] = {0};                                                       \
        int32_t offset = 0, i;                                                                   \
        if (p == NULL || input == NULL || output == NULL || p->count <= 0) {                     \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        if (!fitml_dims_ok(p->outer.rank, p->outer.dims)                                         \
            || !fitml_dims_ok(p->inner.rank, p->inner.dims)) {                                   \
            return FITML_ERR_UNSUPPORTED;                                                        \
        }                                                                                        \
        if (fitml_dims_count(p->outer.rank, p->outer.dims) == 0) {                               \
            return FITML_OK;                                                                     \
        }                                                                                        \
        do {                                                                                     \
            for (i = 0; i < p->outer.dims[p->outer.rank - 1]; i++) {                             \
                const int32_t base = offset + i * p->outer.strides[p->outer.rank - 1];           \
                *output++ = (T)DONE(p, NAME##_sum(&p->inner, input + base));                     \
            }                                                                                    \
        } while (fitml_walk_next(&p->outer, idx, &offset));                                      \
        return FITML_OK;                                                                         \
    }

#endif /* FITML_MEAN_LOOP_H */
