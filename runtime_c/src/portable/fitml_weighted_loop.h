/**
 * @file fitml_weighted_loop.h
 * @brief Internal: the one loop of each int8-activation weighted kernel (im2col CONV_2D,
 *        DEPTHWISE_CONV_2D, FULLY_CONNECTED), stamped out for the int8-filter kernels and their
 *        packed-int4 twins (fitml_*_s8s4), which differ only in how a filter row is read.
 *
 * Each FITML_DEFINE_* defines `NAME` with the params struct PARAMS (fields geom, filter, bias,
 * requant, input_zp, output_zp, act_min, act_max as in fitml_conv_s8_params; FULLY_CONNECTED:
 * batches, input_size, output_size and no input_zp). Macros, not a shared function over a
 * copied view of the params: the loops read p-> exactly as the hand-written kernels did, so
 * each compiles to the same code.
 */
#ifndef FITML_WEIGHTED_LOOP_H
#define FITML_WEIGHTED_LOOP_H

#include <string.h>

#include "fitml/fitml_support.h"

/** @brief 1x1 filter, no padding: each patch is C_in/groups contiguous input bytes. */
static inline int fitml_conv_reads_in_place(const fitml_conv_geom *g)
{
    return g->filter.h == 1 && g->filter.w == 1 && g->pad_h == 0 && g->pad_w == 0;
}

/** @brief Gathers the receptive field of output (oy, ox), input channels [c0, c0 + cg), into
 *         col; padded taps hold zp. */
static inline void fitml_conv_gather(const fitml_conv_geom *g, int32_t zp, const int8_t *image,
                                     int32_t oy, int32_t ox, int32_t c0, int8_t *col)
{
    const int32_t cg = g->filter.c;
    int32_t ky, kx;
    for (ky = 0; ky < g->filter.h; ky++) {
        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
        for (kx = 0; kx < g->filter.w; kx++) {
            const int32_t ix = ox * g->stride_w - g->pad_w + kx * g->dilation_w;
            if (iy < 0 || iy >= g->input.h || ix < 0 || ix >= g->input.w) {
                memset(col, zp, (size_t)cg);
            } else {
                memcpy(col, image + ((size_t)iy * g->input.w + ix) * g->input.c + c0,
                       (size_t)cg);
            }
            col += cg;
        }
    }
}

/** @brief The int8-filter row reader: sum_i x[i] * filter[start + i], wrapping int32 (the
 *         packed-int4 one is fitml_dot_s8s4, fitml_s4.h). */
static inline int32_t fitml_dot_s8_at(const int8_t *x, const int8_t *filter, size_t start,
                                      int32_t n)
{
    return fitml_dot_s8(x, filter + start, n);
}

/* Nonzero if any pointer of params p is NULL. */
#define FITML_WEIGHTED_NULL(p, input, output)                                                    \
    ((p) == NULL || (input) == NULL || (output) == NULL || (p)->filter == NULL                   \
     || (p)->bias == NULL || (p)->requant.multiplier == NULL || (p)->requant.shift == NULL)

/* Output channel oc's int8 value from its accumulator. */
#define FITML_WEIGHTED_OUT(p, oc, acc)                                                           \
    fitml_requant_s8(acc, (p)->requant.multiplier[(p)->requant.per_channel ? (oc) : 0],          \
                     (p)->requant.shift[(p)->requant.per_channel ? (oc) : 0], (p)->output_zp,    \
                     (p)->act_min, (p)->act_max)

/**
 * CONV_2D (TFLM ConvPerChannel), im2col per output pixel and group, then
 * DOT(col, p->filter, oc * depth, depth) per output channel. The folded bias holds
 * -input_zp * sum(filter[c]) and padded taps read input_zp, so every tap contributes
 * filter * (x - input_zp) exactly as TFLM's loop that skips them.
 */
#define FITML_DEFINE_CONV_IM2COL(NAME, PARAMS, DOT)                                              \
    fitml_status NAME(const PARAMS *p, const int8_t *input, int8_t *output, void *scratch)       \
    {                                                                                            \
        const fitml_conv_geom *g;                                                                \
        int32_t b, oy, ox, grp, groups, per_group, depth, in_place;                              \
        if (FITML_WEIGHTED_NULL(p, input, output)) {                                             \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        g = &p->geom;                                                                            \
        per_group = fitml_conv_per_group(g);                                                     \
        if (per_group == 0) {                                                                    \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        groups = g->input.c / g->filter.c;                                                       \
        depth = g->filter.h * g->filter.w * g->filter.c;                                         \
        in_place = fitml_conv_reads_in_place(g);                                                 \
        if (!in_place && scratch == NULL) {                                                      \
            return FITML_ERR_SCRATCH;                                                            \
        }                                                                                        \
        for (b = 0; b < g->output.n; b++) {                                                      \
            const int8_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;     \
            for (oy = 0; oy < g->output.h; oy++) {                                               \
                for (ox = 0; ox < g->output.w; ox++) {                                           \
                    for (grp = 0; grp < groups; grp++) {                                         \
                        const int32_t c0 = grp * g->filter.c;                                    \
                        const int8_t *col;                                                       \
                        int32_t oc;                                                              \
                        if (in_place) {                                                          \
                            col = image + ((size_t)oy * g->stride_h * g->input.w                 \
                                           + (size_t)ox * g->stride_w) * g->input.c + c0;        \
                        } else {                                                                 \
                            fitml_conv_gather(g, p->input_zp, image, oy, ox, c0,                 \
                                              (int8_t *)scratch);                                \
                            col = (const int8_t *)scratch;                                       \
                        }                                                                        \
                        for (oc = grp * per_group; oc < (grp + 1) * per_group; oc++) {           \
                            const int32_t acc = fitml_wrap_add(                                  \
                                DOT(col, p->filter, (size_t)oc * depth, depth), p->bias[oc]);    \
                            output[oc] = FITML_WEIGHTED_OUT(p, oc, acc);                         \
                        }                                                                        \
                    }                                                                            \
                    output += g->output.c;                                                       \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
        return FITML_OK;                                                                         \
    }

/**
 * DEPTHWISE_CONV_2D (TFLM DepthwiseConvPerChannel): per output pixel, one int32 accumulator
 * per output channel (scratch) starts at the folded bias; each tap calls
 * ACCUMULATE(acc, p->filter, tap * C_out, x, input_zp, C_in, depth_multiplier), which adds
 * filter * x, or filter * input_zp for x NULL (outside the image: undoes its share of the
 * folding), so the total equals TFLM's.
 */
#define FITML_DEFINE_DEPTHWISE(NAME, PARAMS, ACCUMULATE)                                         \
    fitml_status NAME(const PARAMS *p, const int8_t *input, int8_t *output, void *scratch)       \
    {                                                                                            \
        const fitml_conv_geom *g;                                                                \
        uint32_t *acc = (uint32_t *)scratch;                                                     \
        int32_t b, oy, ox, ky, kx, oc, cout;                                                     \
        if (FITML_WEIGHTED_NULL(p, input, output)) {                                             \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        g = &p->geom;                                                                            \
        cout = g->output.c;                                                                      \
        if (p->depth_multiplier <= 0 || g->input.c * p->depth_multiplier != cout                 \
            || g->filter.c != cout) {                                                            \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        if (acc == NULL) {                                                                       \
            return FITML_ERR_SCRATCH;                                                            \
        }                                                                                        \
        for (b = 0; b < g->output.n; b++) {                                                      \
            const int8_t *image = input + (size_t)b * g->input.h * g->input.w * g->input.c;     \
            for (oy = 0; oy < g->output.h; oy++) {                                               \
                for (ox = 0; ox < g->output.w; ox++) {                                           \
                    for (oc = 0; oc < cout; oc++) {                                              \
                        acc[oc] = (uint32_t)p->bias[oc];                                         \
                    }                                                                            \
                    for (ky = 0; ky < g->filter.h; ky++) {                                       \
                        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;     \
                        for (kx = 0; kx < g->filter.w; kx++) {                                   \
                            const int32_t ix = ox * g->stride_w - g->pad_w                       \
                                               + kx * g->dilation_w;                             \
                            const size_t base = ((size_t)ky * g->filter.w + kx) * (size_t)cout;  \
                            const int8_t *x = NULL;                                              \
                            if (iy >= 0 && iy < g->input.h && ix >= 0 && ix < g->input.w) {      \
                                x = image + ((size_t)iy * g->input.w + ix) * g->input.c;         \
                            }                                                                    \
                            ACCUMULATE(acc, p->filter, base, x, p->input_zp, g->input.c,         \
                                       p->depth_multiplier);                                     \
                        }                                                                        \
                    }                                                                            \
                    for (oc = 0; oc < cout; oc++) {                                              \
                        output[oc] = FITML_WEIGHTED_OUT(p, oc, (int32_t)acc[oc]);                \
                    }                                                                            \
                    output += cout;                                                              \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
        return FITML_OK;                                                                         \
    }

/**
 * FULLY_CONNECTED (TFLM reference): acc = DOT(x, p->filter, n * input_size, input_size) +
 * folded bias (it holds -input_zp * sum_k filter[n][k]), requantized per tensor or channel.
 */
#define FITML_DEFINE_FC(NAME, PARAMS, DOT)                                                       \
    fitml_status NAME(const PARAMS *p, const int8_t *input, int8_t *output)                      \
    {                                                                                            \
        int32_t b, n;                                                                            \
        if (FITML_WEIGHTED_NULL(p, input, output) || p->batches < 0 || p->input_size < 0         \
            || p->output_size < 0) {                                                             \
            return FITML_ERR_ARGUMENT;                                                           \
        }                                                                                        \
        for (b = 0; b < p->batches; b++) {                                                       \
            const int8_t *row = input + (size_t)b * p->input_size;                               \
            for (n = 0; n < p->output_size; n++) {                                               \
                const int32_t acc = fitml_wrap_add(                                              \
                    DOT(row, p->filter, (size_t)n * p->input_size, p->input_size), p->bias[n]);  \
                output[n] = FITML_WEIGHTED_OUT(p, n, acc);                                       \
            }                                                                                    \
            output += p->output_size;                                                            \
        }                                                                                        \
        return FITML_OK;                                                                         \
    }

#endif /* FITML_WEIGHTED_LOOP_H */
