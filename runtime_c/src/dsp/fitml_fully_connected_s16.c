/**
 * @file fitml_fully_connected_s16.c
 * @brief int16 x int8 FULLY_CONNECTED for the Cortex-M DSP extension: two output rows per
 *        pass over int16 input pairs, SXTB16-widened weights and SMLAD (1.5 instructions per
 *        MAC in the loop); bit-exact with the portable kernel.
 *
 * The filter must be the DSP layout the lowering emits for DSP builds: each row one unit of
 * fitml_dsp_s16.h (blocks of 4 stored as k0, k2, k1, k3).
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

#include "fitml_dsp_s16.h"

static inline int16_t fc16_out(const fitml_fully_connected_s16_params *p, int32_t n, int64_t sum)
{
    return fitml_s16_out(p->bias, p->output_size, n, sum, p->act_min, p->act_max);
}

fitml_status fitml_fully_connected_s16(const fitml_fully_connected_s16_params *p,
                                       const int16_t *input, int16_t *output)
{
    int32_t b, n, k, full, flush;
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL || p->batches < 0
        || p->input_size < 0 || p->output_size < 0) {
        return FITML_ERR_ARGUMENT;
    }
    k = p->input_size;
    full = k & ~3;
    flush = k > FITML_S16_CHUNK;
    for (b = 0; b < p->batches; b++, output += p->output_size) {
        const int16_t *x = input + (size_t)b * k;
        for (n = 0; n < p->output_size; n += 2) {
            const int8_t *wa = p->filter + (size_t)n * k;
            const int32_t pair = n + 1 < p->output_size;
            int32_t acc[2] = {0, 0};
            int64_t s[2] = {0, 0};
            fitml_s16_dot_run(x, wa, pair ? wa + k : NULL, 0, k, full, acc, flush, s);
            output[n] = fc16_out(p, n, s[0] + acc[0]);
            if (pair) {
                output[n + 1] = fc16_out(p, n + 1, s[1] + acc[1]);
            }
        }
    }
    return FITML_OK;
}
