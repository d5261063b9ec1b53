/**
 * @file fitml_avgpool_s16.c
 * @brief int16 AVERAGE_POOL_2D on raw codes (TFLM reference AveragePool, int16; int32 sum).
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"
#include "fitml_window.h"

fitml_status fitml_avgpool_s16(const fitml_pool_s8_params *p, const int16_t *input,
                               int16_t *output)
{
    const fitml_pool_geom *g;
    int32_t b, oy, ox, c, y, x;
    if (p == NULL || input == NULL || output == NULL || !fitml_pool_geom_ok(&p->geom)) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    for (b = 0; b < g->output.n; b++) {
        const int16_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                const fitml_window w = fitml_pool_window(g, oy, ox);
                const int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
                if (w.y1 <= w.y0 || w.x1 <= w.x0) {
                    return FITML_ERR_ARGUMENT;
                }
                for (c = 0; c < g->input.c; c++) {
                    int32_t acc = 0, avg;
                    for (y = w.y0; y < w.y1; y++) {
                        const int16_t *row = image + ((size_t)(w.in_y + y) * g->input.w
                                                     + (size_t)(w.in_x + w.x0)) * g->input.c
                                            + c;
                        for (x = 0; x < w.x1 - w.x0; x++) {
                            acc += row[(size_t)x * g->input.c];
                        }
                    }
                    /* round half away from zero, C division truncates */
                    avg = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    *output++ = (int16_t)fitml_clamp(avg, p->act_min, p->act_max);
                }
            }
        }
    }
    return FITML_OK;
}
