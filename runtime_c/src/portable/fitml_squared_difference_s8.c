/**
 * @file fitml_squared_difference_s8.c
 * @brief int8 SQUARED_DIFFERENCE with broadcasting.
 */
#include "fitml_squared_difference.h"

FITML_DEFINE_BROADCAST(sqdiff_s8, fitml_add_s8_params, int8_t, fitml_sqdiff_one_s8)

fitml_status fitml_squared_difference_s8(const fitml_add_s8_params *p, const int8_t *input1,
                                         const int8_t *input2, int8_t *output)
{
    return sqdiff_s8(p, input1, input2, output, 0);
}
