/**
 * @file fitml_fully_connected_s16.c
 * @brief int16 x int8 FULLY_CONNECTED (TFLM FullyConnected / FullyConnectedPerChannel, int16
 *        overloads): exact int64 dot product per output, bias, fitml_requant_s16.
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

fitml_status fitml_fully_connected_s16(const fitml_fully_connected_s16_params *p,
                                       const int16_t *input, int16_t *output)
{
    int32_t b, n, k;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL || p->batches < 0
        || p->input_size < 0 || p->output_size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    for (b = 0; b < p->batches; b++) {
        const int16_t *x = input + (size_t)b * p->input_size;
        for (n = 0; n < p->output_size; n++) {
            const int8_t *w = p->filter + (size_t)n * p->input_size;
            const int32_t q = p->requant.per_channel ? n : 0;
            int64_t acc = 0;
            for (k = 0; k < p->input_size; k++) {
                acc += (int32_t)w[k] * (int32_t)x[k];
            }
            *output++ = fitml_requant_s16(fitml_wrap_add64(acc, p->bias[n]), p->acc32,
                                          p->requant.multiplier[q], p->requant.shift[q],
                                          p->act_min, p->act_max);
        }
    }
    return FITML_OK;
}
