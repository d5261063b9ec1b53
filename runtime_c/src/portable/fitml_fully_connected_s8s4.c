/**
 * @file fitml_fully_connected_s8s4.c
 * @brief int8 FULLY_CONNECTED with packed int4 filter (TFLM's per-tensor kernel on the
 *        unpacked filter): acc = sum_k filter[n][k] * x[k] + folded bias, requantized
 *        (fitml_weighted_loop.h).
 */
#include "fitml/fitml_int4.h"
#include "fitml_s4.h"
#include "fitml_weighted_loop.h"

FITML_DEFINE_FC(fitml_fully_connected_s8s4, fitml_fully_connected_s8s4_params, fitml_dot_s8s4)
