/**
 * @file fitml_dsp_conv16_c.h
 * @brief Internal: fitml_conv_s8 of a DSP-lowered project built without the DSP extension
 *        (host unit tests, -DFITML_PORTABLE_ONLY). A layer with the pre-widened int16 layout
 *        carries no int8 filter (toolchain/lowering/cconv.py), so plain C walks the layout:
 *        taps [C_out/4][depth4/4][4 channels][k0, k2, k1, k3] doubled (cdsp.conv_dsp_layout),
 *        records per 4 channels {init0..3 doubled, (m, round, e) x 4}, the same arithmetic as
 *        the DSP kernel. Other layers take the portable kernel.
 */
#ifndef FITML_DSP_CONV16_C_H
#define FITML_DSP_CONV16_C_H

fitml_status fitml_conv_s8_portable(const fitml_conv_s8_params *p, const int8_t *input,
                                    int8_t *output, void *scratch);
#define fitml_conv_s8 fitml_conv_s8_portable
#include "../portable/fitml_conv_s8.c"
#undef fitml_conv_s8

/* fitml_requant_fast on a doubled accumulator, SMMLAR in 64-bit C, then the int8 range and
 * the activation's [lo, hi]. */
static int8_t conv16_c_out(int32_t a2, const int32_t *rec, int32_t lo, int32_t hi)
{
    const int64_t prod = (int64_t)rec[1] * 4294967296LL + (int64_t)a2 * rec[0] + 2147483648LL;
    const int32_t top = (int32_t)(prod >> 32) + (a2 < 0 ? -1 : 0);
    return (int8_t)fitml_clamp(fitml_clamp(top >> rec[2], -128, 127), lo, hi);
}

fitml_status fitml_conv_s8(const fitml_conv_s8_params *p, const int8_t *input, int8_t *output,
                           void *scratch)
{
    const fitml_conv_geom *g;
    int8_t *col = (int8_t *)scratch;
    int32_t b, oy, ox, grp, j, blk, i, depth, d4;
    if (p == NULL || p->filter != NULL || p->filter_dsp == NULL || p->fast_requant == NULL) {
        return fitml_conv_s8_portable(p, input, output, scratch);
    }
    g = &p->geom;
    if (input == NULL || output == NULL || !fitml_conv_s8_dsp_ok(g) || g->output.c % 4 != 0) {
        return FITML_ERR_ARGUMENT;
    }
    if (col == NULL) {
        return FITML_ERR_SCRATCH;
    }
    depth = g->filter.h * g->filter.w * g->filter.c;
    d4 = fitml_conv_s8_depth4(g);
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++, output += g->output.c) {
                fitml_conv_gather(g, p->input_zp, image, oy, ox, 0, col);
                memset(col + depth, 0, (size_t)(d4 - depth));
                for (grp = 0; grp < g->output.c / 4; grp++) {
                    const int16_t *w = p->filter_dsp + (size_t)grp * 4 * d4;
                    const int32_t *rec = p->fast_requant + 16 * grp;
                    uint32_t acc[4];
                    for (j = 0; j < 4; j++) {
                        acc[j] = (uint32_t)rec[j];
                    }
                    for (blk = 0; blk < d4 / 4; blk++) {
                        const int8_t *x = col + 4 * blk;
                        for (j = 0; j < 4; j++, w += 4) {
                            acc[j] += (uint32_t)(x[0] * w[0] + x[2] * w[1] + x[1] * w[2]
                                                 + x[3] * w[3]);
                        }
                    }
                    for (i = 0; i < 4; i++) {
                        output[4 * grp + i] = conv16_c_out((int32_t)acc[i], rec + 4 + 3 * i,
                                                     p->act_min, p->act_max);
                    }
                }
            }
        }
    }
    return FITML_OK;
}

#endif /* FITML_DSP_CONV16_C_H */
