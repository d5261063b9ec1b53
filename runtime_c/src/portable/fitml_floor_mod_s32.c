/**
 * @file fitml_floor_mod_s32.c
 * @brief FLOOR_MOD s32 with broadcasting (fitml_floor_mod.h).
 */
#include "fitml_floor_mod.h"

FITML_DEFINE_FLOOR_MOD(int32_t, s32)
