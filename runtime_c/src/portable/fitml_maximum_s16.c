/**
 * @file fitml_maximum_s16.c
 * @brief MAXIMUM s16 with broadcasting (fitml_extremum.h).
 */
#include "fitml_extremum.h"

FITML_DEFINE_PICK(int16_t, s16)

fitml_status fitml_maximum_s16(const fitml_broadcast_params *p, const int16_t *input1,
                               const int16_t *input2, int16_t *output)
{
    return fitml_extremum_s16(p, input1, input2, output, FITML_PICK_MAX);
}
