/**
 * @file fitml_abs_s16.c
 * @brief int16 ABS (fitml_abs_loop.h).
 */
#include "fitml_abs_loop.h"

FITML_DEFINE_ABS(fitml_abs_s16, int16_t)
