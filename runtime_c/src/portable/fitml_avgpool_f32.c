/**
 * @file fitml_avgpool_f32.c
 * @brief float32 AVERAGE_POOL_2D (TFLite reference: sum of valid taps / their count, clamp).
 */
#include "fitml/fitml_pool.h"
#include "fitml_window.h"

fitml_status fitml_avgpool_f32(const fitml_pool_f32_params *p, const float *input,
                               float *output)
{
    const fitml_pool_geom *g;
    int32_t b, oy, ox, c, y, x;
    if (p == NULL || input == NULL || output == NULL || !fitml_pool_geom_ok(&p->geom)) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    for (b = 0; b < g->output.n; b++) {
        const float *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                const fitml_window w = fitml_pool_window(g, oy, ox);
                const int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
                if (w.y1 <= w.y0 || w.x1 <= w.x0) {
                    return FITML_ERR_ARGUMENT;
                }
                for (c = 0; c < g->input.c; c++) {
                    float total = 0.0f, avg;
                    for (y = w.y0; y < w.y1; y++) {
                        const float *row = image + ((size_t)(w.in_y + y) * g->input.w
                                                    + (size_t)(w.in_x + w.x0)) * g->input.c
                                           + c;
                        for (x = 0; x < w.x1 - w.x0; x++) {
                            total += row[(size_t)x * g->input.c];
                        }
                    }
                    avg = total / (float)count;
                    avg = avg < p->act_min ? p->act_min : avg;
                    *output++ = avg > p->act_max ? p->act_max : avg;
                }
            }
        }
    }
    return FITML_OK;
}
