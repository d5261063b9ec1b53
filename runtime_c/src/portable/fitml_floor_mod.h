/**
 * @file fitml_floor_mod.h
 * @brief Internal: FLOOR_MOD per element (TFLM floor_mod.cc) and its broadcast loop, stamped
 *        out for float32 and int32 by FITML_DEFINE_FLOOR_MOD.
 */
#ifndef FITML_FLOOR_MOD_H
#define FITML_FLOOR_MOD_H

#include <math.h>

#include "fitml/fitml_math.h"
#include "fitml_broadcast_loop.h"

/* fmodf(x, y) (exact), plus y when it is nonzero with the other sign than y. */
static inline float fitml_floor_mod_one_f32(const fitml_broadcast_params *p, float x, float y,
                                            int op)
{
    const float r = fmodf(x, y);
    (void)p;
    (void)op;
    return (r != 0.0f && ((y < 0.0f) != (r < 0.0f))) ? r + y : r;
}

/* x % y moved to y's sign; y == 0 (TFLM refuses) and y == -1 (INT32_MIN % -1) give 0. */
static inline int32_t fitml_floor_mod_one_s32(const fitml_broadcast_params *p, int32_t x,
                                              int32_t y, int op)
{
    int32_t r;
    (void)p;
    (void)op;
    if (y == 0 || y == -1) {
        return 0;
    }
    r = x % y;
    return (r != 0 && ((y < 0) != (r < 0))) ? r + y : r;
}

/** Defines fitml_floor_mod_SFX(p, input1, input2, output) over the broadcast walk. */
#define FITML_DEFINE_FLOOR_MOD(T, SFX)                                                           \
    FITML_DEFINE_BROADCAST(fitml_floor_mod_loop_##SFX, fitml_broadcast_params, T,                \
                           fitml_floor_mod_one_##SFX)                                            \
    fitml_status fitml_floor_mod_##SFX(const fitml_broadcast_params *p, const T *input1,         \
                                       const T *input2, T *output)                               \
    {                                                                                            \
        return fitml_floor_mod_loop_##SFX(p, input1, input2, output, 0);                         \
    }

#endif /* FITML_FLOOR_MOD_H */
