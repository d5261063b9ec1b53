/**
 * @file fitml_lstm_s8_stream.h
 * @brief Internal to src/dsp/fitml_lstm_s8.c: the int8 LSTM step over weights_dsp, the model's
 *        int8 weights and biases only reordered (toolchain/ops/lstm_s8_stream.py), for builds
 *        whose flash has no room for the pre-widened layout.
 *
 * Per step x and h are widened once into doubled SXTB16 lanes, zero-padded to whole blocks.
 * Per unit one pass runs its 4 gate rows of the input FC, requantizes them, the same for the
 * recurrent FC (fitml_lstm_s8_gates.h), then the gate activations, the cell update and the
 * hidden state: no gate buffer. Without the DSP extension (host) plain C reads the same stream
 * into the portable gate buffer and activations.
 */
#ifndef FITML_LSTM_S8_STREAM_H
#define FITML_LSTM_S8_STREAM_H

#if FITML_HAS_DSP
/* v widened (lstm_widen_all) and doubled lane by lane: (2 v0, 2 v2), (2 v1, 2 v3). */
static void lstm_s8_widen2(const int8_t *v, int32_t n, uint32_t *w)
{
    const int32_t words = lstm_words(n);
    int32_t k;
    lstm_widen_all(v, n, w);
    for (k = 0; k < words; k++) {
        w[k] = (uint32_t)__sadd16((int16x2_t)w[k], (int16x2_t)w[k]);
    }
}

#include "fitml_lstm_s8_gates.h"

/* The cell's requantization records {m, round, e}. */
typedef struct {
    int32_t forget[3], update[3], hidden[3];
} lstm_s8_cell_records;

/* The call's constant part of the gate pass and of the cell update. */
typedef struct {
    lstm_s8_args gates;
    lstm_s8_cell_records cell;
} lstm_s8_records;

static void lstm_s8_records_of(const fitml_lstm_s8_params *p, lstm_s8_records *r)
{
    int32_t g;
    for (g = 0; g < 4; g++) {
        lstm_record(p->input_multiplier[g], p->input_shift[g], 0, r->gates.rec[0][g]);
        lstm_record(p->recurrent_multiplier[g], p->recurrent_shift[g], 0, r->gates.rec[1][g]);
    }
    r->gates.x_tail = p->input_size & 3;
    r->gates.h_tail = p->units & 3;
    lstm_record(p->forget_multiplier, p->forget_shift, 0, r->cell.forget);
    lstm_record(p->update_multiplier, p->update_shift, 0, r->cell.update);
    lstm_record(p->hidden_multiplier, p->hidden_shift, p->hidden_zp, r->cell.hidden);
}

static inline int32_t lstm_s8_rq(int32_t a2, const int32_t *r)
{
    return fitml_requant_fast(a2, r[0], r[1], r[2]);
}

/* One step: per unit its gates, c = sat16(f*c + i*g) clipped, h = tanh(c) * o (in place:
 * the widened hw keeps the old h). */
static void lstm_step_stream(const fitml_lstm_s8_params *p, lstm_s8_records *r,
                             const int8_t *x, uint32_t *xw, uint32_t *hw, int16_t *cell,
                             int8_t *hidden)
{
    const int32_t units = p->units, clip = p->cell_clip;
    const int32_t tm = p->cell_tanh_multiplier, ts = p->cell_tanh_shift;
    const int32_t tr = ts > 0 ? 1 << (ts - 1) : 0;
    const int16_t *table = p->sigmoid_table;
    const lstm_s8_cell_records *rc = &r->cell;
    const int8_t *w = p->weights_dsp;
    int32_t u;
    lstm_s8_widen2(x, p->input_size, xw);
    lstm_s8_widen2(hidden, units, hw);
    r->gates.xw = xw;
    r->gates.xend = xw + 2 * (p->input_size >> 2);
    r->gates.hw = hw;
    r->gates.hend = hw + 2 * (units >> 2);
    for (u = 0; u < units; u++) {
        uint32_t if_pair, go_pair;
        int32_t i, f, g, o, c;
        w = lstm_s8_gates(w, &r->gates, &if_pair, &go_pair);
        i = lstm_s8_sigmoid((int16_t)if_pair, table);
        f = lstm_s8_sigmoid((int32_t)if_pair >> 16, table);
        g = lstm_s8_tanh(3 * (int16_t)go_pair, table);
        o = lstm_s8_sigmoid((int32_t)go_pair >> 16, table);
        c = __ssat(__ssat(lstm_s8_rq(2 * f * cell[u], rc->forget), 16)
                   + __ssat(lstm_s8_rq(2 * i * g, rc->update), 16), 16);
        if (clip > 0) {
            c = fitml_clamp(c, -clip, clip);
        }
        cell[u] = (int16_t)c;
        hidden[u] = (int8_t)__ssat(
            lstm_s8_rq(2 * lstm_s8_tanh((c * tm + tr) >> ts, table) * o, rc->hidden), 8);
    }
}
#else
/* A unit's 4 gate sums of one FC from the stream: the biases (stored doubled) plus the dot
 * products with v[0..n); returns the stream past them. */
static const int8_t *lstm_s8_fc_c(const int8_t *w, const int8_t *v, int32_t n, int32_t *acc)
{
    const int32_t whole = n & ~3, tail = n & 3;
    int32_t g, k;
    for (g = 0; g < 4; g++) {
        int32_t b;
        memcpy(&b, w + 4 * g, 4);
        acc[g] = b / 2;
    }
    w += 16;
    for (k = 0; k < whole; k++) {
        for (g = 0; g < 4; g++) {
            acc[g] += w[16 * (k >> 2) + 4 * g + (k & 3)] * v[k];
        }
    }
    w += 4 * whole;
    for (k = 0; k < tail; k++) {
        for (g = 0; g < 4; g++) {
            acc[g] += w[4 * k + g] * v[whole + k];
        }
    }
    return w + 4 * tail;
}

static void lstm_step_stream(const fitml_lstm_s8_params *p, const int8_t *x, int16_t *cell,
                             int16_t *gates, int8_t *hidden)
{
    const int32_t units = p->units;
    const int8_t *w = p->weights_dsp;
    int32_t u, g;
    for (u = 0; u < units; u++) {
        int32_t a[4], b[4];
        w = lstm_s8_fc_c(w, x, p->input_size, a);
        w = lstm_s8_fc_c(w, hidden, units, b);
        for (g = 0; g < 4; g++) {
            gates[g * units + u] = lstm_pre(p, g, a[g], b[g]);
        }
    }
    lstm_activate(p, gates);
    lstm_update(p, cell, gates, hidden);
}
#endif

/* fitml_lstm_s8 with weights_dsp: every batch from its kept states, one step per time step. Not
 * inlined: the layout path in fitml_lstm_s8 then compiles as it does without it. */
__attribute__((noinline)) static fitml_status lstm_s8_stream(const fitml_lstm_s8_params *p,
                                                             const int8_t *input, int8_t *output,
                                                             void *scratch)
{
    int32_t b, t, units;
    uint32_t *xw, *hw;
    int16_t *cell, *gates;
    int8_t *hidden;
#if FITML_HAS_DSP
    lstm_s8_records records;
#endif
    if (input == NULL || output == NULL || p->batches < 0 || p->time_steps < 0
        || p->input_size <= 0 || p->units <= 0 || p->sigmoid_table == NULL || !p->dsp_fast
        || p->hidden_state == NULL || p->cell_state == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    if (scratch == NULL) {
        return FITML_ERR_SCRATCH;
    }
    units = p->units;
    xw = (uint32_t *)scratch;
    hw = xw + lstm_words(p->input_size);
    gates = (int16_t *)(hw + lstm_words(units));
#if FITML_HAS_DSP
    lstm_s8_records_of(p, &records);
    (void)gates;
#endif
    for (b = 0; b < p->batches; b++) {
        hidden = p->hidden_state + (size_t)b * units;   /* this batch's states, in place */
        cell = p->cell_state + (size_t)b * units;
        for (t = 0; t < p->time_steps; t++) {
            const size_t row = p->time_major ? (size_t)t * p->batches + b
                                             : (size_t)b * p->time_steps + t;
            const int8_t *x = input + row * p->input_size;
#if FITML_HAS_DSP
            lstm_step_stream(p, &records, x, xw, hw, cell, hidden);
#else
            lstm_step_stream(p, x, cell, gates, hidden);
#endif
            memcpy(output + row * units, hidden, (size_t)units);
        }
    }
    return FITML_OK;
}

#endif /* FITML_LSTM_S8_STREAM_H */
