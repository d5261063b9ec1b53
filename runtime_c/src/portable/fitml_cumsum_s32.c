/**
 * @file fitml_cumsum_s32.c
 * @brief CUMSUM int32: sums wrapping on overflow (fitml_cumsum_loop.h).
 */
#include "fitml/fitml_support.h"
#include "fitml_cumsum_loop.h"

#define CS_LOAD(v) (v)
#define CS_STORE(acc) (acc)

FITML_DEFINE_CUMSUM(fitml_cumsum_s32, fitml_cumsum_params, (*p), int32_t, int32_t, 0, CS_LOAD,
                    fitml_wrap_add, CS_STORE)
