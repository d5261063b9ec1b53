/**
 * @file fitml_floor_div_f32.c
 * @brief FLOOR_DIV f32 with broadcasting (fitml_floor_div.h).
 */
#include "fitml_floor_div.h"

FITML_DEFINE_FLOOR_DIV(float, f32)
