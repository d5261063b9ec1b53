/**
 * @file fitml_cumsum_s8.c
 * @brief CUMSUM int8 as TFLM's reference_ops::CumSum (fitml_cumsum_loop.h); both shifts are
 *        <= 0, so fitml_mbqm is TFLM's MultiplyByQuantizedMultiplierSmallerThanOneExp.
 */
#include "fitml/fitml_support.h"
#include "fitml_cumsum_loop.h"

#define CS_LEFT_SHIFT 20    /* TFLM kCumSumIntegerShift */
#define CS_SCALED(y) fitml_mbqm(fitml_wrap_shl((y), CS_LEFT_SHIFT), p->input_multiplier,       \
                                p->input_shift)
#define CS_LOAD(v) CS_SCALED((int32_t)(v) + p->input_offset)
#define CS_STORE(acc) fitml_requant_s8((acc), p->output_multiplier, p->output_shift,            \
                                       p->output_offset, -128, 127)

/* TFLM starts the sum at the scaled input offset (-zp_in), not at 0 */
FITML_DEFINE_CUMSUM(fitml_cumsum_s8, fitml_cumsum_s8_params, p->geom, int8_t, int32_t,
                    CS_SCALED(p->input_offset), CS_LOAD, fitml_wrap_add, CS_STORE)
