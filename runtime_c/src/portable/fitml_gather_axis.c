/**
 * @file fitml_gather_axis.c
 * @brief GATHER of any element type: one memcpy per index, indices checked at run time.
 */
#include <string.h>

#include "fitml/fitml_data.h"

fitml_status fitml_gather_axis(const fitml_gather_axis_params *p, const void *input,
                               const int32_t *coords, void *output)
{
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    int32_t b, o, k;
    if (p == NULL || input == NULL || coords == NULL || output == NULL || p->inner_bytes < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (b = 0; b < p->batch; b++) {
        const int32_t *row = coords + (size_t)b * p->coord_size;
        for (o = 0; o < p->outer; o++) {
            const uint8_t *slab = src + ((size_t)b * p->outer + o) * p->axis_size
                                  * (size_t)p->inner_bytes;
            for (k = 0; k < p->coord_size; k++) {
                if (row[k] < 0 || row[k] >= p->axis_size) {
                    return FITML_ERR_ARGUMENT;
                }
                memcpy(dst, slab + (size_t)row[k] * p->inner_bytes, (size_t)p->inner_bytes);
                dst += p->inner_bytes;
            }
        }
    }
    return FITML_OK;
}
