/**
 * @file fitml_lstm_s8.c
 * @brief int8 UNIDIRECTIONAL_SEQUENCE_LSTM (TFLM lstm_eval.h LstmStep, 8x8->16), bit for bit.
 *
 * Per step: forget, input and cell gates, the cell update, the output gate, then the hidden
 * state (the old hidden state feeds all four gates). Sigmoid and tanh are the int16 LOGISTIC /
 * TANH kernels (fitml_logistic_s16.c, fitml_tanh_s16.c), compiled in here under private names
 * so a model that also uses those kernels links each once. The DSP twin (src/dsp) includes this
 * file with FITML_LSTM_DSP defined: inputs widened once per step, SMLAD dot products. The
 * states (p->hidden_state, p->cell_state) persist between calls, updated in place.
 */
#include <string.h>

#include "fitml/fitml_lstm.h"
#include "fitml/fitml_support.h"

#define fitml_logistic_s16 fitml_lstm_logistic_s16
#define fitml_tanh_s16 fitml_lstm_tanh_s16
#include "fitml_logistic_s16.c"
#include "fitml_tanh_s16.c"
#undef fitml_logistic_s16
#undef fitml_tanh_s16

/* The step's operands: raw int8 vectors and (DSP) their SXTB16-widened words. */
typedef struct {
    const int8_t *x, *h;
    uint32_t *xw, *hw;
} lstm_operands;

static int32_t lstm_words(int32_t n)
{
    return 2 * ((n + 3) / 4);
}

size_t fitml_lstm_s8_scratch_size(const fitml_lstm_s8_params *p)
{
    return 4u * (size_t)(lstm_words(p->input_size) + lstm_words(p->units))
           + 8u * (size_t)p->units;
}

#ifdef FITML_LSTM_DSP
/* (v0, v2), (v1, v3) of each 4 bytes; the tail (n % 4) is read from v directly. */
static void lstm_widen(const int8_t *v, int32_t n, uint32_t *w)
{
    int32_t k;
    for (k = 0; k + 4 <= n; k += 4, w += 2) {
        uint32_t word;
        memcpy(&word, v + k, 4);
        w[0] = fitml_sxtb16(word);
        w[1] = fitml_sxtb16_ror8(word);
    }
}

static int32_t lstm_dot(const int8_t *w, const int8_t *v, const uint32_t *vw, int32_t n)
{
    int32_t acc = 0, k;
    for (k = 0; k + 4 <= n; k += 4, vw += 2) {
        uint32_t word;
        memcpy(&word, w + k, 4);
        acc = fitml_smlad(fitml_sxtb16(word), vw[0], acc);
        acc = fitml_smlad(fitml_sxtb16_ror8(word), vw[1], acc);
    }
    for (; k < n; k++) {
        acc += (int32_t)w[k] * v[k];
    }
    return acc;
}

#else
static void lstm_widen(const int8_t *v, int32_t n, uint32_t *w)
{
    (void)v, (void)n, (void)w;
}

static int32_t lstm_dot(const int8_t *w, const int8_t *v, const uint32_t *vw, int32_t n)
{
    (void)vw;
    return fitml_dot_s8(w, v, n);
}
#endif

static int32_t lstm_sat16(int32_t v)
{
    return fitml_clamp(v, -32768, 32767);
}

/* Gate g's pre-activation: sat16(FC(x) + FC(h)) per unit, each FC requantized to Q3.12. */
static void lstm_gate(const fitml_lstm_s8_params *p, int32_t g, const lstm_operands *v,
                      int16_t *out)
{
    const int32_t n_in = p->input_size, units = p->units;
    const int8_t *wx = p->input_weights + (size_t)g * units * n_in;
    const int8_t *wh = p->recurrent_weights + (size_t)g * units * units;
    int32_t u;
    for (u = 0; u < units; u++) {
        const int32_t a = fitml_wrap_add(lstm_dot(wx + (size_t)u * n_in, v->x, v->xw, n_in),
                                         p->input_bias[g * units + u]);
        const int32_t r = fitml_wrap_add(lstm_dot(wh + (size_t)u * units, v->h, v->hw, units),
                                         p->recurrent_bias[g * units + u]);
        out[u] = (int16_t)lstm_sat16(
            lstm_sat16(fitml_mbqm(a, p->input_multiplier[g], p->input_shift[g]))
            + lstm_sat16(fitml_mbqm(r, p->recurrent_multiplier[g], p->recurrent_shift[g])));
    }
}

/* In place: sigmoid on the input, forget and output gates, tanh on the cell gate (Q3.12 in:
 * TFLM's power-of-two case, multiplier 3 << 0). */
static void lstm_activate(const fitml_lstm_s8_params *p, int16_t *gates)
{
    const int32_t units = p->units;
    fitml_logistic_s16_params act;
    act.input_multiplier = 3;
    act.input_left_shift = 0;
    act.table = p->sigmoid_table;
    act.size = 2 * units;
    (void)fitml_lstm_logistic_s16(&act, gates, gates);
    act.size = units;
    (void)fitml_lstm_tanh_s16(&act, gates + 2 * units, gates + 2 * units);
    (void)fitml_lstm_logistic_s16(&act, gates + 3 * units, gates + 3 * units);
}

/* MBQM(acc, m, s) + zp clamped to [lo, hi]; the DSP build's proven fast path when allowed. */
static int32_t lstm_rq(const fitml_lstm_s8_params *p, int32_t acc, int32_t m, int32_t s,
                       int32_t zp, int32_t lo, int32_t hi)
{
#ifdef FITML_LSTM_DSP
    if (p->dsp_fast) {
        const int32_t e = -s;
        const int32_t v = fitml_requant_fast(2 * acc, m, (1 << (e - 1)) + zp * (1 << e), e);
        return fitml_clamp(v, lo, hi);
    }
#else
    (void)p;
#endif
    return fitml_clamp(fitml_mbqm(acc, m, s) + zp, lo, hi);
}

/* c = sat16(f*c + i*g) clipped; then h = tanh(c) * o (tanh into the input gate buffer). */
static void lstm_update(const fitml_lstm_s8_params *p, int16_t *cell, int16_t *gates,
                        int8_t *hidden)
{
    const int32_t units = p->units, clip = p->cell_clip;
    int16_t *in = gates, *forget = gates + units, *cg = gates + 2 * units;
    const int16_t *og = gates + 3 * units;
    fitml_logistic_s16_params act;
    int32_t u;
    for (u = 0; u < units; u++) {
        const int32_t f = lstm_rq(p, (int32_t)forget[u] * cell[u], p->forget_multiplier,
                                  p->forget_shift, 0, -32768, 32767);
        const int32_t i = lstm_rq(p, (int32_t)in[u] * cg[u], p->update_multiplier,
                                  p->update_shift, 0, -32768, 32767);
        int32_t c = lstm_sat16(f + i);
        if (clip > 0) {
            c = fitml_clamp(c, -clip, clip);
        }
        cell[u] = (int16_t)c;
    }
    act.size = units;
    act.input_multiplier = p->cell_tanh_multiplier;
    act.input_left_shift = p->cell_tanh_shift;
    act.table = p->sigmoid_table;
    (void)fitml_lstm_tanh_s16(&act, cell, in);
    for (u = 0; u < units; u++) {
        hidden[u] = (int8_t)lstm_rq(p, (int32_t)in[u] * og[u], p->hidden_multiplier,
                                    p->hidden_shift, p->hidden_zp, -128, 127);
    }
}

fitml_status fitml_lstm_s8(const fitml_lstm_s8_params *p, const int8_t *input, int8_t *output,
                           void *scratch)
{
    int32_t b, t, g, n_in, units;
    uint32_t *xw, *hw;
    int16_t *cell, *gates;
    int8_t *hidden;
    if (p == NULL || input == NULL || output == NULL || p->batches < 0 || p->time_steps < 0
        || p->input_size <= 0 || p->units <= 0 || p->input_weights == NULL
        || p->recurrent_weights == NULL || p->input_bias == NULL || p->recurrent_bias == NULL
        || p->sigmoid_table == NULL || p->hidden_state == NULL || p->cell_state == NULL) {
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
            lstm_operands v;
            v.x = input + row * n_in;
            v.h = hidden;
            v.xw = xw;
            v.hw = hw;
            lstm_widen(v.x, n_in, xw);
            lstm_widen(hidden, units, hw);
            for (g = 0; g < 4; g++) {
                lstm_gate(p, g, &v, gates + g * units);
            }
            lstm_activate(p, gates);
            lstm_update(p, cell, gates, hidden);
            memcpy(output + row * units, hidden, (size_t)units);
        }
    }
    return FITML_OK;
}
