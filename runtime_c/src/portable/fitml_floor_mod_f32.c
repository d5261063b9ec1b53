/**
 * @file fitml_floor_mod_f32.c
 * @brief FLOOR_MOD f32 with broadcasting (fitml_floor_mod.h).
 */
#include "fitml_floor_mod.h"

FITML_DEFINE_FLOOR_MOD(float, f32)
