/**
 * @file fitml_pool_loop.h
 * @brief Internal: the one window loop of MAX/AVERAGE_POOL_2D (f32, s8, s16), stamped out per
 *        kernel by FITML_DEFINE_POOL so each element type keeps its native loads and registers.
 */
#ifndef FITML_POOL_LOOP_H
#define FITML_POOL_LOOP_H

#include "fitml/fitml_support.h"
#include "fitml_window.h"

/* Steps: the accumulator after one more tap v. */
#define FITML_POOL_SUM(acc, v) ((acc) + (v))
#define FITML_POOL_MAX(acc, v) ((v) > (acc) ? (v) : (acc))

/* Taps inside a clipped window. */
#define FITML_POOL_COUNT(w) (((w).y1 - (w).y0) * ((w).x1 - (w).x0))

/* Finishes: store the output value of a window from its accumulator and tap count in out
 * (an lvalue of the element type, evaluated once). */
#define FITML_POOL_CLAMP_I(p, acc, count, out) \
    ((void)(count), (out) = fitml_clamp(acc, (p)->act_min, (p)->act_max))
#define FITML_POOL_AVG_I(p, acc, count, out) \
    ((out) = fitml_clamp(fitml_pool_round_div(acc, count), (p)->act_min, (p)->act_max))
#define FITML_POOL_CLAMP_F(p, acc, count, out)        \
    ((void)(count), (acc) = (acc) < (p)->act_min ? (p)->act_min : (acc), \
     (out) = (acc) > (p)->act_max ? (p)->act_max : (acc))
#define FITML_POOL_AVG_F(p, acc, count, out) \
    ((acc) = (acc) / (float)(count), FITML_POOL_CLAMP_F(p, acc, 0, out))

/** @brief acc / count rounded half away from zero (TFLM; C division truncates). */
static inline int32_t fitml_pool_round_div(int32_t acc, int32_t count)
{
    return acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
}

/**
 * Defines `fitml_status NAME(const PARAMS *p, const T *input, T *output)`: per output pixel and
 * channel, ACC acc = INIT; acc = STEP(acc, v) over the taps inside the image; then
 * DONE(p, acc, count, *output++). NONEMPTY 1 (the averages, which divide by the tap count)
 * rejects a window with no tap (FITML_ERR_ARGUMENT); NONEMPTY 0 passes count 0.
 */
#define FITML_DEFINE_POOL(NAME, PARAMS, T, ACC, INIT, STEP, DONE, NONEMPTY)                     \
    fitml_status NAME(const PARAMS *p, const T *input, T *output)                                \
    {                                                                                            \
        const fitml_pool_geom *g;                                                                \
        int32_t b, oy, ox, c, y, x;                                                              \
        if (p == NULL || input == NULL || output == NULL || !fitml_pool_geom_ok(&p->geom)) {     \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        g = &p->geom;                                                                            \
        for (b = 0; b < g->output.n; b++) {                                                      \
            const T *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;          \
            for (oy = 0; oy < g->output.h; oy++) {                                               \
                for (ox = 0; ox < g->output.w; ox++) {                                           \
                    const fitml_window w = fitml_pool_window(g, oy, ox);                         \
                    const int32_t count = NONEMPTY ? FITML_POOL_COUNT(w) : 0;                    \
                    if (NONEMPTY && (w.y1 <= w.y0 || w.x1 <= w.x0)) {                            \
                        return FITML_ERR_ARGUMENT;                                               \
                    }                                                                            \
                    for (c = 0; c < g->input.c; c++) {                                           \
                        ACC acc = (INIT);                                                        \
                        for (y = w.y0; y < w.y1; y++) {                                          \
                            const T *row = image + ((size_t)(w.in_y + y) * g->input.w            \
                                                    + (size_t)(w.in_x + w.x0)) * g->input.c      \
                                           + c;                                                  \
                            for (x = 0; x < w.x1 - w.x0; x++) {                                  \
                                const ACC v = row[(size_t)x * g->input.c];                       \
                                acc = STEP(acc, v);                                              \
                            }                                                                    \
                        }                                                                        \
                        DONE(p, acc, count, *output++);                                          \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
        return FITML_OK;                                                                         \
    }

#endif /* FITML_POOL_LOOP_H */
