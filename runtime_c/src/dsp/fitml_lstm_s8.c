/**
 * @file fitml_lstm_s8.c
 * @brief int8 UNIDIRECTIONAL_SEQUENCE_LSTM for the Cortex-M DSP extension.
 *
 * With filter_dsp (lstm_lowering.dsp_layout, emitted only with dsp_fast) each gate's two FCs
 * stream pre-widened, doubled int16 weights 4 units at a time (LDM + 8 SMLADs per 4-deep
 * block, x and h widened once per step) and requantize with SMMLAR; then one fused loop per
 * unit runs the gate sigmoid/tanh (the int16 LUT kernels inlined for their fixed Q3.12 input),
 * the cell update and the hidden state with SMMLAR records. Built without the DSP extension
 * (host, -DFITML_PORTABLE_ONLY) plain C walks the same layout with the portable arithmetic.
 * Without filter_dsp (flash too short for it), weights_dsp: the int8 weights only reordered, run by
 * fitml_lstm_s8_stream.h. Without either the portable kernel runs.
 */
#include "fitml/fitml_config.h"
#include "fitml/fitml_lstm.h"
#include "fitml_dsp_macs.h"

#if FITML_HAS_DSP
#define FITML_LSTM_DSP 1
#endif
fitml_status fitml_lstm_s8_int8(const fitml_lstm_s8_params *p, const int8_t *input,
                                int8_t *output, void *scratch);
#define fitml_lstm_s8 fitml_lstm_s8_int8
#include "../portable/fitml_lstm_s8.c"
#undef fitml_lstm_s8

#if FITML_HAS_DSP
/* Every 4 bytes of v as SXTB16 lanes (v0, v2), (v1, v3); the tail block zero-padded. */
static void lstm_widen_all(const int8_t *v, int32_t n, uint32_t *w)
{
    int32_t k, i;
    uint32_t word;
    for (k = 0; k + 4 <= n; k += 4, w += 2) {
        memcpy(&word, v + k, 4);
        w[0] = fitml_sxtb16(word);
        w[1] = fitml_sxtb16_ror8(word);
    }
    if (k < n) {
        word = 0;
        for (i = 0; k + i < n; i++) {
            word |= (uint32_t)(uint8_t)v[k + i] << (8 * i);
        }
        w[0] = fitml_sxtb16(word);
        w[1] = fitml_sxtb16_ror8(word);
    }
}

/* One 4-deep block of 4 units: operand lanes in r4, r5, doubled taps streamed from w. */
#define LSTM_BLOCK "ldmia %[x]!, {r4, r5}\n\t" FITML_DSP_MAC_4ROWS("r4", "r5")

/* Requantize the doubled accumulator A with {m, round, e} in r4, r5, r8 to int16 (SSAT). */
#define LSTM_RQ(A) FITML_DSP_REQUANT(A, "r9", "r4", "r5", "r8", "16")

/* One FC of 4 units: inits from the stream, then the blocks of operand words from [x, end):
 * an odd block first, then pairs. */
#define LSTM_FC                                                                                \
    "ldmia %[w]!, {r0, r1, r2, r3}\n\t"                                                        \
    "sub r4, %[end], %[x]\n\t"                                                                 \
    "tst r4, #8\n\t"                                                                           \
    "beq 1f\n\t" LSTM_BLOCK                                                                    \
    "cmp %[x], %[end]\n\t"                                                                     \
    "beq 2f\n\t"                                                                               \
    "1:\n\t" LSTM_BLOCK LSTM_BLOCK                                                             \
    "cmp %[x], %[end]\n\t"                                                                     \
    "bne 1b\n\t"                                                                               \
    "2:\n\t"

/* What one gate group reads besides the stream: the widened x and h words (with their ends),
 * the gate's records {m, round, e} of the input FC then the recurrent FC, and where the 4
 * pre-activations go (word-aligned). Offsets are the asm's. */
typedef struct {
    const uint32_t *xw, *xend, *hw, *hend;      /* 0, 4, 8, 12 */
    int32_t rec[6];                             /* 16: input FC, 28: recurrent FC */
    int16_t *out;                               /* 40 */
} lstm_group_args;

/* 4 units of one gate: out[0..3] = sat16(sat16(FC(x)) + sat16(FC(h))) (QADD16); returns the
 * stream past this group. */
static inline const int16_t *lstm_group(const int16_t *w, const lstm_group_args *a)
{
    const uint32_t *x, *end;
    __asm__ volatile("ldrd %[x], %[end], [%[a], #0]\n\t" LSTM_FC
                     "add r9, %[a], #16\n\t"
                     "ldmia r9, {r4, r5, r8}\n\t"
                     LSTM_RQ("r0") LSTM_RQ("r1") LSTM_RQ("r2") LSTM_RQ("r3")
                     "pkhbt r0, r0, r1, lsl #16\n\t"
                     "pkhbt r2, r2, r3, lsl #16\n\t"
                     "ldr r9, [%[a], #40]\n\t"
                     "strd r0, r2, [r9]\n\t"
                     "ldrd %[x], %[end], [%[a], #8]\n\t" LSTM_FC
                     "add r9, %[a], #28\n\t"
                     "ldmia r9, {r4, r5, r8}\n\t"
                     LSTM_RQ("r0") LSTM_RQ("r1") LSTM_RQ("r2") LSTM_RQ("r3")
                     "pkhbt r0, r0, r1, lsl #16\n\t"
                     "pkhbt r2, r2, r3, lsl #16\n\t"
                     "ldr r9, [%[a], #40]\n\t"
                     "ldrd r4, r5, [r9]\n\t"
                     "qadd16 r0, r4, r0\n\t"
                     "qadd16 r2, r5, r2\n\t"
                     "strd r0, r2, [r9]\n\t"
                     : [w] "+r"(w), [x] "=&r"(x), [end] "=&r"(end)
                     : [a] "r"(a)
                     : "r0", "r1", "r2", "r3", "r4", "r5", "r8", "r9", "r10", "r11", "cc",
                       "memory");
    return w;
}

/* {m, round, e} of MBQM(acc, m, s) on a doubled accumulator (dsp_fast: 1 <= e <= 31). */
static void lstm_record(int32_t m, int32_t s, int32_t zp, int32_t *rec)
{
    rec[0] = m;
    rec[2] = -s;
    rec[1] = (1 << (rec[2] - 1)) + zp * (1 << rec[2]);
}

/* All four gates' pre-activations [4][units] from the layout; a group that is not whole or
 * not word-aligned (odd units) goes through a 4-entry buffer. */
static void lstm_gates_layout(const fitml_lstm_s8_params *p, const uint32_t *xw,
                              const uint32_t *hw, int16_t *gates)
{
    const int32_t units = p->units;
    const int16_t *w = p->filter_dsp;
    int32_t g, u, r;
    uint32_t tmp[2];
    lstm_group_args a;
    a.xw = xw;
    a.xend = xw + 2 * ((p->input_size + 3) / 4);
    a.hw = hw;
    a.hend = hw + 2 * ((units + 3) / 4);
    for (g = 0; g < 4; g++, gates += units) {
        lstm_record(p->input_multiplier[g], p->input_shift[g], 0, a.rec);
        lstm_record(p->recurrent_multiplier[g], p->recurrent_shift[g], 0, a.rec + 3);
        for (u = 0; u < units; u += 4) {
            const int whole = u + 4 <= units && (units & 1) == 0;
            a.out = whole ? gates + u : (int16_t *)tmp;
            w = lstm_group(w, &a);
            for (r = 0; !whole && r < 4 && u + r < units; r++) {
                gates[u + r] = ((const int16_t *)tmp)[r];
            }
        }
    }
}

/* LOGISTIC int16 of a Q3.12 gate (x = 3 * pre) from the {B, S} table centred at q = 0
 * (lstm_lowering.lerp_tables): no |x|, sign fix or saturation test. */
static inline int32_t lstm_sigmoid(int32_t pre, const int32_t *sig)
{
    const int32_t x = 3 * pre;
    const int32_t *e = sig + 2 * (x >> 9);
    return (int16_t)((e[0] + (x & 0x1FF) * e[1]) >> 10);
}

/* TANH int16 of a rescaled input x, index clamped to the table's [-256, 255]. */
static inline int32_t lstm_tanh(int32_t x, const int32_t *tanh)
{
    const int32_t *e = tanh + 2 * __ssat(x >> 8, 9);
    return (int16_t)((e[0] + (x & 0xFF) * e[1]) >> 8);
}

/* The sigmoid {B, S} table after the gate streams (16 * (1 + blocks of x and h) int16 per 4
 * units of a gate), at its q = 0 entry; the tanh table follows it. */
static const int32_t *lstm_sigmoid_table(const fitml_lstm_s8_params *p)
{
    const int32_t groups = 4 * ((p->units + 3) / 4);
    const int32_t stream = 16 * (1 + (p->input_size + 3) / 4 + (p->units + 3) / 4);
    return (const int32_t *)(const void *)(p->filter_dsp + (size_t)groups * stream) + 2 * 192;
}

/* Per unit: the gates' activations, c = sat16(f*c + i*g) clipped, h = tanh(c) * o. */
static void lstm_cells(const fitml_lstm_s8_params *p, const int32_t *sig, int16_t *cell,
                       const int16_t *gates, int8_t *hidden)
{
    const int32_t units = p->units, clip = p->cell_clip, tm = p->cell_tanh_multiplier;
    const int32_t ts = p->cell_tanh_shift, tr = ts > 0 ? 1 << (ts - 1) : 0;
    const int32_t *tanh = sig + 2 * 192 + 2 * 256;
    int32_t rf[3], ru[3], rh[3], u;
    lstm_record(p->forget_multiplier, p->forget_shift, 0, rf);
    lstm_record(p->update_multiplier, p->update_shift, 0, ru);
    lstm_record(p->hidden_multiplier, p->hidden_shift, p->hidden_zp, rh);
    for (u = 0; u < units; u++) {
        const int32_t i = lstm_sigmoid(gates[u], sig);
        const int32_t f = lstm_sigmoid(gates[units + u], sig);
        const int32_t g = lstm_tanh(3 * gates[2 * units + u], tanh);
        const int32_t o = lstm_sigmoid(gates[3 * units + u], sig);
        int32_t c = __ssat(fitml_requant_fast(2 * f * cell[u], rf[0], rf[1], rf[2]), 16)
                    + __ssat(fitml_requant_fast(2 * i * g, ru[0], ru[1], ru[2]), 16);
        c = __ssat(c, 16);
        if (clip > 0) {
            c = fitml_clamp(c, -clip, clip);
        }
        cell[u] = (int16_t)c;
        hidden[u] = (int8_t)__ssat(
            fitml_requant_fast(2 * lstm_tanh((c * tm + tr) >> ts, tanh) * o, rh[0], rh[1],
                               rh[2]), 8);
    }
}

/* One step from the layout: x and h widened, gates, then the cells (hidden in place). */
static void lstm_step_layout(const fitml_lstm_s8_params *p, const int8_t *x, uint32_t *xw,
                             uint32_t *hw, int16_t *cell, int16_t *gates, int8_t *hidden)
{
    lstm_widen_all(x, p->input_size, xw);
    lstm_widen_all(hidden, p->units, hw);
    lstm_gates_layout(p, xw, hw, gates);
    lstm_cells(p, lstm_sigmoid_table(p), cell, gates, hidden);
}
#else
/* Plain C over the layout (no DSP extension): the same sums, the portable arithmetic. */
static int32_t lstm_stream(int32_t blocks)      /* int16 of one FC's 4-unit inits and taps */
{
    return 8 + 16 * blocks;
}

/* Unit r's (doubled) dot product with v[0..n) from taps stored (k0, k2, k1, k3) per block. */
static int32_t lstm_layout_dot(const int16_t *t, const int8_t *v, int32_t n, int32_t r)
{
    static const int8_t lane[4] = {0, 2, 1, 3};
    int32_t acc = 0, k, j;
    for (k = 0; k < n; k += 4, t += 16) {
        for (j = 0; j < 4; j++) {
            if (k + lane[j] < n) {
                acc += v[k + lane[j]] * t[4 * r + j];
            }
        }
    }
    return acc;
}

/* sat16(sat16(MBQM(a)) + sat16(MBQM(b))): gate g's pre-activation. */
static int16_t lstm_pre(const fitml_lstm_s8_params *p, int32_t g, int32_t a, int32_t b)
{
    return (int16_t)lstm_sat16(
        lstm_sat16(fitml_mbqm(a, p->input_multiplier[g], p->input_shift[g]))
        + lstm_sat16(fitml_mbqm(b, p->recurrent_multiplier[g], p->recurrent_shift[g])));
}

static int32_t lstm_init(const int16_t *w, int32_t r)
{
    return (int32_t)((uint32_t)(uint16_t)w[2 * r] | ((uint32_t)(uint16_t)w[2 * r + 1] << 16));
}

static void lstm_step_layout(const fitml_lstm_s8_params *p, const int8_t *x, uint32_t *xw,
                             uint32_t *hw, int16_t *cell, int16_t *gates, int8_t *hidden)
{
    const int32_t n_in = p->input_size, units = p->units;
    const int32_t sx = lstm_stream((n_in + 3) / 4), sh = lstm_stream((units + 3) / 4);
    const int16_t *w = p->filter_dsp;
    int32_t g, u, r;
    (void)xw, (void)hw;
    for (g = 0; g < 4; g++) {
        for (u = 0; u < units; u += 4, w += sx + sh) {
            for (r = 0; r < 4 && u + r < units; r++) {     /* doubled sums: halve exactly */
                const int32_t a = (lstm_init(w, r) + lstm_layout_dot(w + 8, x, n_in, r)) / 2;
                const int32_t b = (lstm_init(w + sx, r)
                                   + lstm_layout_dot(w + sx + 8, hidden, units, r)) / 2;
                gates[g * units + u + r] = lstm_pre(p, g, a, b);
            }
        }
    }
    lstm_activate(p, gates);
    lstm_update(p, cell, gates, hidden);
}
#endif

#include "fitml_lstm_s8_stream.h"

fitml_status fitml_lstm_s8(const fitml_lstm_s8_params *p, const int8_t *input, int8_t *output,
                           void *scratch)
{
    int32_t b, t, n_in, units;
    uint32_t *xw, *hw;
    int16_t *cell, *gates;
    int8_t *hidden;
    if (p != NULL && p->filter_dsp == NULL && p->weights_dsp != NULL) {
        return lstm_s8_stream(p, input, output, scratch);
    }
    if (p == NULL || p->filter_dsp == NULL) {
        return fitml_lstm_s8_int8(p, input, output, scratch);
    }
    if (input == NULL || output == NULL || p->batches < 0 || p->time_steps < 0
        || p->input_size <= 0 || p->units <= 0 || p->sigmoid_table == NULL || !p->dsp_fast
        || p->hidden_state == NULL || p->cell_state == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    if (scratch == NULL) {
        return FITML_ERR_SCRATCH;
    }
    n_in = p->input_size;
    units = p->units;
    xw = (uint32_t *)scratch;
    hw = xw + lstm_words(n_in);
    gates = (int16_t *)(hw + lstm_words(units));
    for (b = 0; b < p->batches; b++) {
        hidden = p->hidden_state + (size_t)b * units;   /* this batch's states, in place */
        cell = p->cell_state + (size_t)b * units;
        for (t = 0; t < p->time_steps; t++) {
            const size_t row = p->time_major ? (size_t)t * p->batches + b
                                             : (size_t)b * p->time_steps + t;
            lstm_step_layout(p, input + row * n_in, xw, hw, cell, gates, hidden);
            memcpy(output + row * units, hidden, (size_t)units);
        }
    }
    return FITML_OK;
}
