/**
 * @file fitml_quantize_f32_s16.c
 * @brief float32 -> int16 QUANTIZE (TFLM AffineQuantize): roundf(v / scale) + zp, clamped.
 *
 * roundf is done exactly in float32 without libm: for |r| < 2^23, r - trunc(r) is exact, so
 * comparing it with 0.5 rounds ties away from zero; larger |r| are integers already (and far
 * outside int16 anyway, so they are clamped first).
 */
#include "fitml/fitml_int16.h"
#include "fitml/fitml_support.h"

/* roundf(r) as int32 for r already limited to [-65536, 65536]. */
static int32_t round_half_away(float r)
{
    const int32_t t = (int32_t)r; /* truncates toward zero */
    const float frac = r - (float)t;
    if (frac >= 0.5f) {
        return t + 1;
    }
    if (frac <= -0.5f) {
        return t - 1;
    }
    return t;
}

fitml_status fitml_quantize_f32_s16(const fitml_affine_params *p, const float *input,
                                    int16_t *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0 || !(p->scale > 0.0f)) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        float r = input[i] / p->scale;
        if (r != r) {
            r = 0.0f; /* NaN: TFLM's cast is undefined; fitml's reference uses 0 */
        }
        r = r > 65536.0f ? 65536.0f : (r < -65536.0f ? -65536.0f : r);
        output[i] = (int16_t)fitml_clamp(round_half_away(r) + p->zero_point, -32768, 32767);
    }
    return FITML_OK;
}
