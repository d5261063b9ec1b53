/**
 * @file fitml_extremum.h
 * @brief Internal: MAXIMUM / MINIMUM broadcast loops (TFLM MaximumMinimumBroadcastSlow):
 *        `a > b ? a : b` and `a < b ? a : b` on stored values, per element type.
 */
#ifndef FITML_EXTREMUM_H
#define FITML_EXTREMUM_H

#include "fitml/fitml_math.h"
#include "fitml_broadcast_loop.h"

enum { FITML_PICK_MAX, FITML_PICK_MIN };

#define FITML_DEFINE_PICK(T, SFX)                                                                \
    static inline T fitml_pick_##SFX(const fitml_broadcast_params *p, T a, T b, int op)          \
    {                                                                                            \
        (void)p;                                                                                 \
        return op == FITML_PICK_MAX ? (a > b ? a : b) : (a < b ? a : b);                         \
    }                                                                                            \
    FITML_DEFINE_BROADCAST(fitml_extremum_##SFX, fitml_broadcast_params, T, fitml_pick_##SFX)

#endif /* FITML_EXTREMUM_H */
