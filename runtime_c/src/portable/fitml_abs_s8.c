/**
 * @file fitml_abs_s8.c
 * @brief int8 ABS (fitml_abs_loop.h).
 */
#include "fitml_abs_loop.h"

FITML_DEFINE_ABS(fitml_abs_s8, int8_t)
