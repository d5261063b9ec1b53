/**
 * @file fitml_squared_difference_s16.c
 * @brief int16 SQUARED_DIFFERENCE with broadcasting.
 */
#include "fitml_squared_difference.h"

FITML_DEFINE_BROADCAST(sqdiff_s16, fitml_add_s8_params, int16_t, fitml_sqdiff_one_s16)

fitml_status fitml_squared_difference_s16(const fitml_add_s8_params *p, const int16_t *input1,
                                          const int16_t *input2, int16_t *output)
{
    return sqdiff_s16(p, input1, input2, output, 0);
}
