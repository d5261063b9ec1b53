/**
 * @file fitml_fully_connected_s8s4.c
 * @brief int8 FULLY_CONNECTED with packed int4 filter (TFLM's per-tensor kernel on the
 *        unpacked filter): acc = sum_k filter[n][k] * x[k] + folded bias, requantized.
 */
#include "fitml/fitml_int4.h"
#include "fitml/fitml_support.h"
#include "fitml_s4.h"

fitml_status fitml_fully_connected_s8s4(const fitml_fully_connected_s8s4_params *p,
                                        const int8_t *input, int8_t *output)
{
    int32_t b, n;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL || p->batches < 0
        || p->input_size < 0 || p->output_size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (b = 0; b < p->batches; b++) {
        const int8_t *row = input + (size_t)b * p->input_size;
        for (n = 0; n < p->output_size; n++) {
            const int32_t q = p->requant.per_channel ? n : 0;
            const int32_t acc = fitml_wrap_add(
                fitml_dot_s8s4(row, p->filter, (size_t)n * p->input_size, p->input_size),
                p->bias[n]);
            output[n] = fitml_requant_s8(acc, p->requant.multiplier[q], p->requant.shift[q],
                                         p->output_zp, p->act_min, p->act_max);
        }
        output += p->output_size;
    }
    return FITML_OK;
}
