/**
 * @file fitml_hard_swish_s8.c
 * @brief int8 HARD_SWISH as TFLM reference_ops::HardSwish: int16 fixed point throughout.
 *
 * The input offset moves to a "hires" scale (<< 7). One Q0.15 multiplier takes it to the
 * output scale (before the final right shift); another maps [-3, 3] onto [-1, 1] saturating,
 * which becomes a factor in [0, 1] that multiplies the first with truncation (SQDMULH-like).
 * All int16 products fit int32, so no 64-bit arithmetic is needed.
 */
#include "fitml/fitml_activation.h"
#include "fitml/fitml_support.h"

#define HS_INT16_MIN (-32768)
#define HS_INT16_MAX 32767

/** @brief gemmlowp SaturatingRoundingDoublingHighMul on int16 (division truncates). */
static int32_t hs_srdhm16(int32_t a, int32_t b)
{
    const int32_t ab = a * b;
    if (a == HS_INT16_MIN && b == HS_INT16_MIN) {
        return HS_INT16_MAX;
    }
    return (ab + (ab >= 0 ? (1 << 14) : 1 - (1 << 14))) / (1 << 15);
}

/** @brief TFLM SaturatingDoublingHighMul on int16: as above without the rounding nudge. */
static int32_t hs_sdhm16(int32_t a, int32_t b)
{
    if (a == HS_INT16_MIN && b == HS_INT16_MIN) {
        return HS_INT16_MAX;
    }
    return (a * b) / (1 << 15);
}

/** @brief x * 2^k saturated to int16; k >= 0 (any nonzero int16 saturates by k = 16). */
static int32_t hs_sat_shl16(int32_t x, int32_t k)
{
    return fitml_clamp(x * ((int32_t)1 << (k > 16 ? 16 : k)), HS_INT16_MIN, HS_INT16_MAX);
}

fitml_status fitml_hard_swish_s8(const fitml_hard_swish_s8_params *p, const int8_t *input,
                                 int8_t *output)
{
    int32_t i;
    if (p == NULL || input == NULL || output == NULL || p->size < 0 || p->output_shift > 0
        || p->output_shift < -31 || p->reluish_shift < -31) {
        return FITML_ERR_ARGUMENT;
    }
    for (i = 0; i < p->size; i++) {
        const int32_t hires = ((int32_t)input[i] - p->input_zp) * (1 << 7);
        const int32_t preshift = hs_srdhm16(hires, p->output_multiplier);
        int32_t reluish = hires;
        if (p->reluish_shift > 0) {
            reluish = hs_sat_shl16(reluish, p->reluish_shift - 1);
        }
        reluish = hs_srdhm16(reluish, p->reluish_multiplier);
        if (p->reluish_shift > 0) {
            reluish = hs_sat_shl16(reluish, 1);
        } else if (p->reluish_shift < 0) {
            reluish = fitml_rdbpot(reluish, -p->reluish_shift);
        }
        reluish = (reluish + (1 << 15)) >> 1;           /* [-1, 1] -> [0, 1] */
        output[i] = (int8_t)fitml_clamp(
            fitml_rdbpot(hs_sdhm16(reluish, preshift), -p->output_shift) + p->output_zp,
            -128, 127);
    }
    return FITML_OK;
}
