/**
 * @file fitml_logistic_s8.c
 * @brief int8 LOGISTIC (TFLM reference integer_ops/logistic.h): input rescaled to Q4.27,
 *        gemmlowp logistic, output zero point -128 (fixed by TFLM).
 */
#include "fitml/fitml_activation.h"
#include "fitml/fitml_support.h"

fitml_status fitml_logistic_s8(const fitml_logistic_s8_params *p, const int8_t *input,
                               int8_t *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const int32_t x = (int32_t)input[i] - p->input_zp;
        int32_t out;
        if (x <= -p->input_range_radius) {
            out = -128;
        } else if (x >= p->input_range_radius) {
            out = 127;
        } else {
            const int32_t a = fitml_mbqm(x, p->input_multiplier, p->input_shift);
            out = fitml_clamp(fitml_rdbpot(fitml_logistic_q4(a), 23) - 128, -128, 127);
        }
        output[i] = (int8_t)out;
    }
    return FITML_OK;
}
