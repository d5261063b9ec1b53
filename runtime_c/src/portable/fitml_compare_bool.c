/**
 * @file fitml_compare_bool.c
 * @brief bool comparisons (EQUAL / NOT_EQUAL) of truth values, any non-zero byte true, with
 *        broadcasting (fitml_compare_loop.h).
 */
#include "fitml_compare_loop.h"

#define FITML_COMPARE_TRUTH(p, k, v) ((void)(p), (v) != 0)

FITML_DEFINE_COMPARE(fitml_compare_bool, uint8_t, FITML_COMPARE_TRUTH)
