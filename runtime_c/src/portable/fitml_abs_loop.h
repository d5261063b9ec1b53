/**
 * @file fitml_abs_loop.h
 * @brief Internal: the int8 / int16 ABS loop (TFLM AbsEvalQuantized), per element type.
 */
#ifndef FITML_ABS_LOOP_H
#define FITML_ABS_LOOP_H

#include "fitml/fitml_math.h"
#include "fitml/fitml_support.h"

/** Defines `fitml_status NAME(const fitml_requantize_s8_params *p, const T *in, T *out)`. */
#define FITML_DEFINE_ABS(NAME, T)                                                                \
    fitml_status NAME(const fitml_requantize_s8_params *p, const T *input, T *output)            \
    {                                                                                            \
        int32_t i;                                                                               \
        if (p == NULL || input == NULL || output == NULL || p->size < 0) {                       \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        for (i = 0; i < p->size; i++) {                                                          \
            int32_t v = (int32_t)input[i] - p->input_zp;                                         \
            v = fitml_mbqm(v < 0 ? -v : v, p->multiplier, p->shift);                             \
            output[i] = (T)fitml_clamp(fitml_wrap_add(v, p->output_zp), p->act_min,             \
                                       p->act_max);                                              \
        }                                                                                        \
        return FITML_OK;                                                                         \
    }

#endif /* FITML_ABS_LOOP_H */
