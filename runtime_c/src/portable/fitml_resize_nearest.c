/**
 * @file fitml_resize_nearest.c
 * @brief RESIZE_NEAREST_NEIGHBOR of any element type: one memcpy per output pixel.
 */
#include <string.h>

#include "fitml/fitml_resize.h"

fitml_status fitml_resize_nearest(const fitml_resize_nearest_params *p, const void *input,
                                  void *output)
{
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    int32_t b, y, x;
    if (p == NULL || input == NULL || output == NULL || p->rows == NULL || p->cols == NULL
        || p->pixel_bytes < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (b = 0; b < p->batches; b++) {
        const uint8_t *image = src + (size_t)b * p->in_h * p->in_w * p->pixel_bytes;
        for (y = 0; y < p->out_h; y++) {
            const uint8_t *row = image + (size_t)p->rows[y] * p->in_w * p->pixel_bytes;
            for (x = 0; x < p->out_w; x++) {
                memcpy(dst, row + (size_t)p->cols[x] * p->pixel_bytes, (size_t)p->pixel_bytes);
                dst += p->pixel_bytes;
            }
        }
    }
    return FITML_OK;
}
