/**
 * @file fitml_cumsum_f32.c
 * @brief CUMSUM float32: sums from 0.0f in order (fitml_cumsum_loop.h).
 */
#include "fitml_cumsum_loop.h"

#define CS_LOAD(v) (v)
#define CS_ADD(a, b) ((a) + (b))
#define CS_STORE(acc) (acc)

FITML_DEFINE_CUMSUM(fitml_cumsum_f32, fitml_cumsum_params, (*p), float, float, 0.0f, CS_LOAD,
                    CS_ADD, CS_STORE)
