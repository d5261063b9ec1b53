/**
 * @file fitml_minimum_s8.c
 * @brief MINIMUM s8 with broadcasting (fitml_extremum.h).
 */
#include "fitml_extremum.h"

FITML_DEFINE_PICK(int8_t, s8)

fitml_status fitml_minimum_s8(const fitml_broadcast_params *p, const int8_t *input1,
                              const int8_t *input2, int8_t *output)
{
    return fitml_extremum_s8(p, input1, input2, output, FITML_PICK_MIN);
}
