/**
 * @file fitml_compare_f32.c
 * @brief float32 comparisons with broadcasting (fitml_compare_loop.h).
 */
#include "fitml_compare_loop.h"

FITML_DEFINE_COMPARE(fitml_compare_f32, float, FITML_COMPARE_AS_IS)
