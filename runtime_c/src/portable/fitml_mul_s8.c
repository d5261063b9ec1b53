/**
 * @file fitml_mul_s8.c
 * @brief int8 MUL with broadcasting (TFLM MulElementwise / BroadcastMul).
 */
#include "fitml/fitml_elementwise.h"
#include "fitml/fitml_support.h"
#include "fitml_walk.h"

fitml_status fitml_mul_s8(const fitml_mul_s8_params *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output)
{
    int32_t idx[FITML_MAX_DIMS] = {0};
    int32_t o1 = 0, o2 = 0, i, inner, s1, s2;
    fitml_status st;
    if (p == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    st = fitml_broadcast_check(&p->bc, input1, input2, output);
    if (st != FITML_OK || fitml_dims_count(p->bc.rank, p->bc.dims) == 0) {
        return st;
    }
    inner = p->bc.dims[p->bc.rank - 1];
    s1 = p->bc.strides1[p->bc.rank - 1];
    s2 = p->bc.strides2[p->bc.rank - 1];
    do {
        for (i = 0; i < inner; i++) {
            const int32_t prod = ((int32_t)input1[o1 + i * s1] - p->input1_zp)
                                 * ((int32_t)input2[o2 + i * s2] - p->input2_zp);
            *output++ = fitml_requant_s8(prod, p->output_multiplier, p->output_shift,
                                         p->output_zp, p->act_min, p->act_max);
        }
    } while (fitml_broadcast_next(&p->bc, idx, &o1, &o2));
    return FITML_OK;
}
