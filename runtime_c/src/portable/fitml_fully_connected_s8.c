/**
 * @file fitml_fully_connected_s8.c
 * @brief int8 FULLY_CONNECTED (TFLM reference, per-tensor or per-channel): the folded bias
 *        already holds -input_zp * sum_k filter[n][k], so the inner loop is a plain int8 dot
 *        product (fitml_weighted_loop.h).
 */
#include "fitml/fitml_fully_connected.h"
#include "fitml_weighted_loop.h"

FITML_DEFINE_FC(fitml_fully_connected_s8, fitml_fully_connected_s8_params, fitml_dot_s8_at)
