/**
 * @file fitml_space_to_batch_nd.c
 * @brief SPACE_TO_BATCH_ND of any element type, TFLM's reference loop over output pixels.
 */
#include <string.h>

#include "fitml_space_batch.h"

fitml_status fitml_space_to_batch_nd(const fitml_space_batch_params *p, const void *input,
                                     void *output)
{
    int32_t b, h, w, in_h, in_w, shift;
    const uint8_t *src = (const uint8_t *)input;
    uint8_t *dst = (uint8_t *)output;
    size_t row = 0;
    if (p == NULL || input == NULL || output == NULL ||
        !fitml_space_batch_ok(p, p->out_batch, p->in_batch) || p->in_batch == 0 ||
        (int64_t)p->out_height * p->block_height < (int64_t)p->pad_top + p->in_height ||
        (int64_t)p->out_width * p->block_width < (int64_t)p->pad_left + p->in_width) {
        return FITML_ERR_ARGUMENT;
    }
    row = (size_t)p->depth_bytes;
    for (b = 0; b < p->out_batch; b++) {
        const uint8_t *image = src + (size_t)(b % p->in_batch) * (size_t)p->in_height *
                                         (size_t)p->in_width * row;
        shift = b / p->in_batch;
        for (h = 0; h < p->out_height; h++) {
            in_h = h * p->block_height + shift / p->block_width - p->pad_top;
            for (w = 0; w < p->out_width; w++) {
                in_w = w * p->block_width + shift % p->block_width - p->pad_left;
                if (in_h < 0 || in_h >= p->in_height || in_w < 0 || in_w >= p->in_width) {
                    memset(dst, p->pad_byte, row);
                } else {
                    memcpy(dst, image + ((size_t)in_h * (size_t)p->in_width + (size_t)in_w) * row,
                           row);
                }
                dst += row;
            }
        }
    }
    return FITML_OK;
}
