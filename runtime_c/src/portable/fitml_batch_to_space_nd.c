/**
 * @file fitml_batch_to_space_nd.c
 * @brief BATCH_TO_SPACE_ND of any element type, TFLM's reference loop over input pixels.
 */
#include <string.h>

#include "fitml_space_batch.h"

fitml_status fitml_batch_to_space_nd(const fitml_space_batch_params *p, const void *input,
                                     void *output)
{
    int32_t b, h, w, out_h, out_w, shift;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    size_t row;
    if (p == NULL || input == NULL || output == NULL ||
        !fitml_space_batch_ok(p, p->in_batch, p->out_batch) || p->out_batch == 0) {
        return FITML_ERR_ARGUMENT;
    }
    row = (size_t)p->depth_bytes;
    for (b = 0; b < p->in_batch; b++) {
        uint8_t *image = dst + (size_t)(b % p->out_batch) * (size_t)p->out_height *
                                   (size_t)p->out_width * row;
        shift = b / p->out_batch;
        for (h = 0; h < p->in_height; h++) {
            out_h = h * p->block_height + shift / p->block_width - p->pad_top;
            for (w = 0; w < p->in_width; w++, src += row) {
                out_w = w * p->block_width + shift % p->block_width - p->pad_left;
                if (out_h < 0 || out_h >= p->out_height || out_w < 0 || out_w >= p->out_width) {
                    continue;
                }
                memcpy(image + ((size_t)out_h * (size_t)p->out_width + (size_t)out_w) * row, src,
                       row);
            }
        }
    }
    return FITML_OK;
}
