/**
 * @file fitml_conv_s8_noscratch.c
 * @brief int8 CONV_2D without scratch (fitml_conv_direct.h): what the planner picks where
 *        fitml_conv_s8's im2col scratch would raise the peak arena.
 */
#include "fitml/fitml_conv.h"
#include "fitml_conv_direct.h"

fitml_status fitml_conv_s8_noscratch(const fitml_conv_s8_params *p, const int8_t *input,
                                     int8_t *output)
{
    return fitml_conv_direct_s8(p, input, output, NULL, NULL, 0);
}
