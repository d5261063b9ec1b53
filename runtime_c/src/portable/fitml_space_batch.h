/**
 * @file fitml_space_batch.h
 * @brief Internal: the parameter check shared by SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND.
 */
#ifndef FITML_SPACE_BATCH_H
#define FITML_SPACE_BATCH_H

#include "fitml/fitml_data.h"

/** @brief 1 when no size is negative, the blocks are >= 1 and `batch` = `space` batch * blocks. */
static inline int fitml_space_batch_ok(const fitml_space_batch_params *p, int32_t batch,
                                       int32_t space)
{
    return p->in_batch >= 0 && p->in_height >= 0 && p->in_width >= 0 && p->out_batch >= 0 &&
           p->out_height >= 0 && p->out_width >= 0 && p->block_height >= 1 &&
           p->block_width >= 1 && p->pad_top >= 0 && p->pad_left >= 0 &&
           p->depth_bytes >= 0 && batch == space * p->block_height * p->block_width;
}

#endif /* FITML_SPACE_BATCH_H */
