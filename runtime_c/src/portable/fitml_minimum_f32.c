/**
 * @file fitml_minimum_f32.c
 * @brief MINIMUM f32 with broadcasting (fitml_extremum.h).
 */
#include "fitml_extremum.h"

FITML_DEFINE_PICK(float, f32)

fitml_status fitml_minimum_f32(const fitml_broadcast_params *p, const float *input1,
                               const float *input2, float *output)
{
    return fitml_extremum_f32(p, input1, input2, output, FITML_PICK_MIN);
}
