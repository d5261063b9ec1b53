/**
 * @file fitml_floor_div_s32.c
 * @brief FLOOR_DIV s32 with broadcasting (fitml_floor_div.h).
 */
#include "fitml_floor_div.h"

FITML_DEFINE_FLOOR_DIV(int32_t, s32)
