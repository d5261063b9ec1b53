/**
 * @file fitml_addsub.h
 * @brief Internal: the int8 and int16 ADD/SUB loops (TFLM AddFunc / SubFunc), shared by both
 *        kernels.
 */
#ifndef FITML_ADDSUB_H
#define FITML_ADDSUB_H

#include "fitml/fitml_support.h"
#include "fitml_walk.h"

/** @brief One output: inputs rescaled to a common scale, summed (sign +1) or subtracted. */
static inline int8_t fitml_addsub_one(const fitml_add_s8_params *p, int32_t q1, int32_t q2,
                                      int sign)
{
    const int32_t a1 = fitml_mbqm(fitml_wrap_shl(q1 - p->input1_zp, p->left_shift),
                                  p->input1_multiplier, p->input1_shift);
    const int32_t a2 = fitml_mbqm(fitml_wrap_shl(q2 - p->input2_zp, p->left_shift),
                                  p->input2_multiplier, p->input2_shift);
    const int32_t sum = sign > 0 ? fitml_wrap_add(a1, a2) : fitml_wrap_sub(a1, a2);
    return fitml_requant_s8(sum, p->output_multiplier, p->output_shift, p->output_zp,
                            p->act_min, p->act_max);
}

/** @brief The broadcast loop of int8 ADD (sign +1) and SUB (sign -1). */
static inline fitml_status fitml_addsub_s8(const fitml_add_s8_params *p, const int8_t *in1,
                                           const int8_t *in2, int8_t *out, int sign)
{
    int32_t idx[FITML_MAX_DIMS] = {0};
    int32_t o1 = 0, o2 = 0, i, inner, s1, s2;
    fitml_status st;
    if (p == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    st = fitml_broadcast_check(&p->bc, in1, in2, out);
    if (st != FITML_OK || fitml_dims_count(p->bc.rank, p->bc.dims) == 0) {
        return st;
    }
    inner = p->bc.dims[p->bc.rank - 1];
    s1 = p->bc.strides1[p->bc.rank - 1];
    s2 = p->bc.strides2[p->bc.rank - 1];
    do {
        for (i = 0; i < inner; i++) {
            *out++ = fitml_addsub_one(p, in1[o1 + i * s1], in2[o2 + i * s2], sign);
        }
    } while (fitml_broadcast_next(&p->bc, idx, &o1, &o2));
    return FITML_OK;
}

/** @brief One int16 output (TFLM general-scale int16 Add/Sub): as fitml_addsub_one, int16 clamp. */
static inline int16_t fitml_addsub_one_s16(const fitml_add_s8_params *p, int32_t q1, int32_t q2,
                                           int sign)
{
    const int32_t a1 = fitml_mbqm(fitml_wrap_shl(q1 - p->input1_zp, p->left_shift),
                                  p->input1_multiplier, p->input1_shift);
    const int32_t a2 = fitml_mbqm(fitml_wrap_shl(q2 - p->input2_zp, p->left_shift),
                                  p->input2_multiplier, p->input2_shift);
    const int32_t sum = sign > 0 ? fitml_wrap_add(a1, a2) : fitml_wrap_sub(a1, a2);
    return (int16_t)fitml_clamp(fitml_mbqm(sum, p->output_multiplier, p->output_shift)
                                + p->output_zp, p->act_min, p->act_max);
}

/** @brief The broadcast loop of int16 ADD (sign +1) and SUB (sign -1). */
static inline fitml_status fitml_addsub_s16(const fitml_add_s8_params *p, const int16_t *in1,
                                            const int16_t *in2, int16_t *out, int sign)
{
    int32_t idx[FITML_MAX_DIMS] = {0};
    int32_t o1 = 0, o2 = 0, i, inner, s1, s2;
    fitml_status st;
    if (p == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    st = fitml_broadcast_check(&p->bc, in1, in2, out);
    if (st != FITML_OK || fitml_dims_count(p->bc.rank, p->bc.dims) == 0) {
        return st;
    }
    inner = p->bc.dims[p->bc.rank - 1];
    s1 = p->bc.strides1[p->bc.rank - 1];
    s2 = p->bc.strides2[p->bc.rank - 1];
    do {
        for (i = 0; i < inner; i++) {
            *out++ = fitml_addsub_one_s16(p, in1[o1 + i * s1], in2[o2 + i * s2], sign);
        }
    } while (fitml_broadcast_next(&p->bc, idx, &o1, &o2));
    return FITML_OK;
}

#endif /* FITML_ADDSUB_H */
