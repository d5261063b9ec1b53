/**
 * @file fitml_compare_s32.c
 * @brief int32 comparisons with broadcasting (fitml_compare_loop.h).
 */
#include "fitml_compare_loop.h"

FITML_DEFINE_COMPARE(fitml_compare_s32, int32_t, FITML_COMPARE_AS_IS)
