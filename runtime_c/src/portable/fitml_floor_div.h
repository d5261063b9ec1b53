/**
 * @file fitml_floor_div.h
 * @brief Internal: FLOOR_DIV per element (TFLite FloorDiv) and its broadcast loop, stamped out
 *        for float32 and int32 by FITML_DEFINE_FLOOR_DIV.
 */
#ifndef FITML_FLOOR_DIV_H
#define FITML_FLOOR_DIV_H

#include <math.h>

#include "fitml/fitml_math.h"
#include "fitml_broadcast_loop.h"

/* floor(double(x) / double(y)) rounded to float, as TFLite's FloorDiv<float>. */
static inline float fitml_floor_div_one_f32(const fitml_broadcast_params *p, float x, float y,
                                            int op)
{
    (void)p;
    (void)op;
    return (float)floor((double)x / (double)y);
}

/* Integer floor division; y == 0 (TFLM refuses) gives 0, INT32_MIN / -1 wraps to INT32_MIN. */
static inline int32_t fitml_floor_div_one_s32(const fitml_broadcast_params *p, int32_t x,
                                              int32_t y, int op)
{
    int32_t q;
    (void)p;
    (void)op;
    if (y == 0) {
        return 0;
    }
    if (y == -1) {
        return (int32_t)(0u - (uint32_t)x);
    }
    q = x / y;
    return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
}

/** Defines fitml_floor_div_SFX(p, input1, input2, output) over the broadcast walk. */
#define FITML_DEFINE_FLOOR_DIV(T, SFX)                                                           \
    FITML_DEFINE_BROADCAST(fitml_floor_div_loop_##SFX, fitml_broadcast_params, T,                \
                           fitml_floor_div_one_##SFX)                                            \
    fitml_status fitml_floor_div_##SFX(const fitml_broadcast_params *p, const T *input1,         \
                                       const T *input2, T *output)                               \
    {                                                                                            \
        return fitml_floor_div_loop_##SFX(p, input1, input2, output, 0);                         \
    }

#endif /* FITML_FLOOR_DIV_H */
