/**
 * @file fitml_minimum_s32.c
 * @brief MINIMUM s32 with broadcasting (fitml_extremum.h).
 */
#include "fitml_extremum.h"

FITML_DEFINE_PICK(int32_t, s32)

fitml_status fitml_minimum_s32(const fitml_broadcast_params *p, const int32_t *input1,
                               const int32_t *input2, int32_t *output)
{
    return fitml_extremum_s32(p, input1, input2, output, FITML_PICK_MIN);
}
