/**
 * @file fitml_window.h
 * @brief Internal: a pooling window clipped to the image (TFLM pooling.h), shared by the pools.
 */
#ifndef FITML_WINDOW_H
#define FITML_WINDOW_H

#include "fitml/fitml_types.h"

/** @brief Valid filter rows [y0, y1) and columns [x0, x1) of a window, and its origin. */
typedef struct {
    int32_t in_y, in_x;     /* input position of filter tap (0, 0), may be negative */
    int32_t y0, y1, x0, x1; /* filter taps inside the image */
} fitml_window;

/** @brief The clipped window of output (oy, ox). */
static inline fitml_window fitml_pool_window(const fitml_pool_geom *g, int32_t oy, int32_t ox)
{
    fitml_window w;
    w.in_y = oy * g->stride_h - g->pad_h;
    w.in_x = ox * g->stride_w - g->pad_w;
    w.y0 = w.in_y < 0 ? -w.in_y : 0;
    w.x0 = w.in_x < 0 ? -w.in_x : 0;
    w.y1 = g->input.h - w.in_y < g->filter_h ? g->input.h - w.in_y : g->filter_h;
    w.x1 = g->input.w - w.in_x < g->filter_w ? g->input.w - w.in_x : g->filter_w;
    return w;
}

/** @brief 1 if the geometry is usable (positive filter and stride, matching channels). */
static inline int fitml_pool_geom_ok(const fitml_pool_geom *g)
{
    return g->filter_h > 0 && g->filter_w > 0 && g->stride_h > 0 && g->stride_w > 0
           && g->input.c == g->output.c && g->input.n == g->output.n;
}

#endif /* FITML_WINDOW_H */
