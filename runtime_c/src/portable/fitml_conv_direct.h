/**
 * @file fitml_conv_direct.h
 * @brief Internal: int8 CONV_2D reading the input directly (no im2col scratch), with an
 *        optional residual-ADD epilogue.
 *
 * Each output channel sums, tap by tap, the int8 dot product of the input pixel's channels
 * with the filter's; a tap outside the image adds filter * input_zp (the folded bias holds
 * -input_zp * sum(filter)). int32 wraparound sums are order-free, so the result equals the
 * im2col kernel's, bit for bit. With `add`, each requantized value q becomes
 * ADD(residual[i], q) (or ADD(q, residual[i])), written to output[i]; output may be residual.
 */
#ifndef FITML_CONV_DIRECT_H
#define FITML_CONV_DIRECT_H

#include <string.h>

#include "fitml/fitml_support.h"
#include "fitml_addsub.h"

/* int8 dot product of n bytes; DSP builds widen 4 bytes of each operand per SMLAD pair. */
static inline int32_t fitml_direct_dot(const int8_t *x, const int8_t *w, int32_t n)
{
#if FITML_HAS_DSP
    uint32_t acc = 0u, a, b;
    for (; n >= 4; n -= 4, x += 4, w += 4) {
        memcpy(&a, x, 4);
        memcpy(&b, w, 4);
        acc = (uint32_t)fitml_smlad(fitml_sxtb16(a), fitml_sxtb16(b), (int32_t)acc);
        acc = (uint32_t)fitml_smlad(fitml_sxtb16_ror8(a), fitml_sxtb16_ror8(b), (int32_t)acc);
    }
    return (int32_t)(acc + (uint32_t)fitml_dot_s8(x, w, n));
#else
    return fitml_dot_s8(x, w, n);
#endif
}

/* Sum over the taps of output (oy, ox), channel oc, group input channels [c0, c0 + cg). */
static inline int32_t fitml_conv_direct_acc(const fitml_conv_s8_params *p, const int8_t *image,
                                            int32_t oy, int32_t ox, int32_t c0, int32_t oc)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t cg = g->filter.c;
    const int8_t *w = p->filter + (size_t)oc * g->filter.h * g->filter.w * cg;
    uint32_t acc = (uint32_t)p->bias[oc];
    int32_t ky, kx, c;
    for (ky = 0; ky < g->filter.h; ky++) {
        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
        for (kx = 0; kx < g->filter.w; kx++, w += cg) {
            const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
            if (iy < 0 || iy >= g->input.h || ix < 0 || ix >= g->input.w) {
                for (c = 0; c < cg; c++) {
                    acc += (uint32_t)((int32_t)w[c] * p->input_zp);
                }
            } else {
                acc += (uint32_t)fitml_direct_dot(
                    image + ((size_t)iy * g->input.w + ix) * g->input.c + c0, w, cg);
            }
        }
    }
    return (int32_t)acc;
}

#if FITML_HAS_DSP
/* DSP builds: 4 output channels oc..oc+3 of one pixel share each widened input word
 * (C_in/groups a multiple of 4); acc[] starts at their folded biases. */
static inline void fitml_conv_direct_acc4(const fitml_conv_s8_params *p, const int8_t *image,
                                          int32_t oy, int32_t ox, int32_t c0, int32_t oc,
                                          int32_t *acc)
{
    const fitml_conv_geom *g = &p->geom;
    const int32_t cg = g->filter.c, depth = g->filter.h * g->filter.w * cg;
    const int8_t *w = p->filter + (size_t)oc * depth;
    int32_t a0 = p->bias[oc], a1 = p->bias[oc + 1], a2 = p->bias[oc + 2], a3 = p->bias[oc + 3];
    int32_t ky, kx, c;
    for (ky = 0; ky < g->filter.h; ky++) {
        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
        for (kx = 0; kx < g->filter.w; kx++, w += cg) {
            const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
            const int8_t *x;
            if (iy < 0 || iy >= g->input.h || ix < 0 || ix >= g->input.w) {
                for (c = 0; c < cg; c++) {
                    a0 = (int32_t)((uint32_t)a0 + (uint32_t)(w[c] * p->input_zp));
                    a1 = (int32_t)((uint32_t)a1 + (uint32_t)(w[depth + c] * p->input_zp));
                    a2 = (int32_t)((uint32_t)a2 + (uint32_t)(w[2 * depth + c] * p->input_zp));
                    a3 = (int32_t)((uint32_t)a3 + (uint32_t)(w[3 * depth + c] * p->input_zp));
                }
                continue;
            }
            x = image + ((size_t)iy * g->input.w + ix) * g->input.c + c0;
            for (c = 0; c < cg; c += 4) {
                uint32_t v, k;
                uint32_t x02, x13;
                memcpy(&v, x + c, 4);
                x02 = fitml_sxtb16(v);
                x13 = fitml_sxtb16_ror8(v);
#define FITML_DIRECT_LANE(A, J)                                                                \
                memcpy(&k, w + (J) * depth + c, 4);                                            \
                A = fitml_smlad(x02, fitml_sxtb16(k), A);                                      \
                A = fitml_smlad(x13, fitml_sxtb16_ror8(k), A);
                FITML_DIRECT_LANE(a0, 0)
                FITML_DIRECT_LANE(a1, 1)
                FITML_DIRECT_LANE(a2, 2)
                FITML_DIRECT_LANE(a3, 3)
#undef FITML_DIRECT_LANE
            }
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
#endif

static inline fitml_status fitml_conv_direct_s8(const fitml_conv_s8_params *p,
                                                const int8_t *input, int8_t *output,
                                                const fitml_add_s8_params *add,
                                                const int8_t *residual, int32_t residual_first)
{
    const fitml_conv_geom *g;
    int32_t b, oy, ox, oc, per_group;
#if FITML_HAS_DSP
    int32_t blocked, acc4[4] = {0, 0, 0, 0};
#endif
    if (p == NULL || input == NULL || output == NULL || p->filter == NULL || p->bias == NULL
        || p->requant.multiplier == NULL || p->requant.shift == NULL
        || (add != NULL && residual == NULL)) {
        return FITML_ERR_ARGUMENT;
    }
    g = &p->geom;
    per_group = fitml_conv_per_group(g);
    if (per_group == 0) {
        return FITML_ERR_ARGUMENT;
    }
#if FITML_HAS_DSP
    blocked = per_group % 4 == 0 && g->filter.c % 4 == 0;
#endif
    for (b = 0; b < g->output.n; b++) {
        const int8_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;
        for (oy = 0; oy < g->output.h; oy++) {
            for (ox = 0; ox < g->output.w; ox++) {
                for (oc = 0; oc < g->output.c; oc++) {
                    const int32_t q = p->requant.per_channel ? oc : 0;
                    const int32_t c0 = oc / per_group * g->filter.c;
                    int32_t acc;
#if FITML_HAS_DSP
                    if (blocked) {
                        if (oc % 4 == 0) {
                            fitml_conv_direct_acc4(p, image, oy, ox, c0, oc, acc4);
                        }
                        acc = acc4[oc % 4];
                    } else
#endif
                    {
                        acc = fitml_conv_direct_acc(p, image, oy, ox, c0, oc);
                    }
                    const int8_t y = fitml_requant_s8(acc, p->requant.multiplier[q],
                                                      p->requant.shift[q], p->output_zp,
                                                      p->act_min, p->act_max);
                    if (add == NULL) {
                        output[oc] = y;
                    } else {
                        const int32_t r = residual[oc];
                        output[oc] = residual_first ? fitml_addsub_one(add, r, y, 1)
                                                    : fitml_addsub_one(add, y, r, 1);
                    }
                }
                output += g->output.c;
                if (residual != NULL) {
                    residual += g->output.c;
                }
            }
        }
    }
    return FITML_OK;
}

#endif /* FITML_CONV_DIRECT_H */
