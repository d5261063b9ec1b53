/**
 * @file fitml_walk.h
 * @brief Internal: odometer walks over up to FITML_MAX_DIMS dims (all but the innermost), used
 *        by the broadcast, gather, pad and reduce kernels. Not part of the public API.
 */
#ifndef FITML_WALK_H
#define FITML_WALK_H

#include "fitml/fitml_types.h"

/** @brief 1 if rank is within 1..FITML_MAX_DIMS and no dim is negative. */
static inline int fitml_dims_ok(int32_t rank, const int32_t *dims)
{
    int32_t d;
    if (rank < 1 || rank > FITML_MAX_DIMS) {
        return 0;
    }
    for (d = 0; d < rank; d++) {
        if (dims[d] < 0) {
            return 0;
        }
    }
    return 1;
}

/** @brief Product of dims[0..rank). */
static inline int32_t fitml_dims_count(int32_t rank, const int32_t *dims)
{
    int32_t d, n = 1;
    for (d = 0; d < rank; d++) {
        n *= dims[d];
    }
    return n;
}

/**
 * @brief Step idx over dims[0..rank-1) (the innermost dim is the caller's loop), moving the
 *        offset by strides. Returns 0 once the walk wrapped around (done).
 */
static inline int fitml_walk_next(const fitml_walk *w, int32_t *idx, int32_t *offset)
{
    int32_t d;
    for (d = w->rank - 2; d >= 0; d--) {
        *offset += w->strides[d];
        if (++idx[d] < w->dims[d]) {
            return 1;
        }
        *offset -= w->strides[d] * w->dims[d];
        idx[d] = 0;
    }
    return 0;
}

/** @brief fitml_walk_next for a broadcast walk with two inputs. */
static inline int fitml_broadcast_next(const fitml_broadcast *bc, int32_t *idx, int32_t *o1,
                                       int32_t *o2)
{
    int32_t d;
    for (d = bc->rank - 2; d >= 0; d--) {
        *o1 += bc->strides1[d];
        *o2 += bc->strides2[d];
        if (++idx[d] < bc->dims[d]) {
            return 1;
        }
        *o1 -= bc->strides1[d] * bc->dims[d];
        *o2 -= bc->strides2[d] * bc->dims[d];
        idx[d] = 0;
    }
    return 0;
}

/**
 * @brief Checks a broadcast walk: FITML_OK, FITML_ERR_ARGUMENT (NULL or negative dims) or
 *        FITML_ERR_UNSUPPORTED (rank).
 */
static inline fitml_status fitml_broadcast_check(const fitml_broadcast *bc, const void *a,
                                                 const void *b, const void *out)
{
    if (bc == 0 || a == 0 || b == 0 || out == 0) {
        return FITML_ERR_ARGUMENT;
    }
    if (bc->rank < 1 || bc->rank > FITML_MAX_DIMS) {
        return FITML_ERR_UNSUPPORTED;
    }
    return fitml_dims_ok(bc->rank, bc->dims) ? FITML_OK : FITML_ERR_ARGUMENT;
}

#endif /* FITML_WALK_H */
