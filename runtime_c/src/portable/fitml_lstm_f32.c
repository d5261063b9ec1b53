/**
 * @file fitml_lstm_f32.c
 * @brief float32 UNIDIRECTIONAL_SEQUENCE_LSTM (TFLM lstm_eval.h LstmStep, float): per gate
 *        (W_x x + b) + W_h h, sigmoid (TFLM's Logistic cut-offs) or tanh; c = f*c + i*g,
 *        clipped; h = o * tanh(c). The states (p->hidden_state, p->cell_state) persist
 *        between calls: each batch starts from its row and leaves its last step there.
 */
#include <math.h>
#include <string.h>

#include "fitml/fitml_lstm.h"

size_t fitml_lstm_f32_scratch_size(const fitml_lstm_f32_params *p)
{
    return 4u * sizeof(float) * (size_t)p->units;
}

static float lstm_sigmoid(float v)
{
    if (v > 16.619047164916992188f) {
        return 1.0f;
    }
    if (v < -9.0f) {
        return expf(v);
    }
    return 1.0f / (1.0f + expf(-v));
}

static float lstm_dot(const float *w, const float *v, int32_t n)
{
    float acc = 0.0f;
    int32_t k;
    for (k = 0; k < n; k++) {
        acc += w[k] * v[k];
    }
    return acc;
}

static void lstm_gate(const fitml_lstm_f32_params *p, int32_t g, const float *x,
                      const float *h, float *out)
{
    const int32_t n_in = p->input_size, units = p->units;
    const float *wx = p->input_weights + (size_t)g * units * n_in;
    const float *wh = p->recurrent_weights + (size_t)g * units * units;
    int32_t u;
    for (u = 0; u < units; u++) {
        const float a = lstm_dot(wx + (size_t)u * n_in, x, n_in) + p->bias[g * units + u];
        const float v = a + lstm_dot(wh + (size_t)u * units, h, units);
        out[u] = g == 2 ? tanhf(v) : lstm_sigmoid(v);
    }
}

fitml_status fitml_lstm_f32(const fitml_lstm_f32_params *p, const float *input, float *output,
                            void *scratch)
{
    int32_t b, t, u, units;
    float *hidden, *cell, *gates;
    if (p == NULL || input == NULL || output == NULL || p->batches < 0 || p->time_steps < 0
        || p->input_size <= 0 || p->units <= 0 || p->input_weights == NULL
        || p->recurrent_weights == NULL || p->bias == NULL || p->hidden_state == NULL
        || p->cell_state == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    if (scratch == NULL) {
        return FITML_ERR_SCRATCH;
    }
    units = p->units;
    gates = (float *)scratch;
    for (b = 0; b < p->batches; b++) {
        hidden = p->hidden_state + (size_t)b * units;   /* this batch's states, in place */
        cell = p->cell_state + (size_t)b * units;
        for (t = 0; t < p->time_steps; t++) {
            const size_t row = p->time_major ? (size_t)t * p->batches + b
                                             : (size_t)b * p->time_steps + t;
            const float *x = input + row * p->input_size;
            for (u = 0; u < 4; u++) {
                lstm_gate(p, u, x, hidden, gates + u * units);
            }
            for (u = 0; u < units; u++) {
                float c = gates[units + u] * cell[u] + gates[u] * gates[2 * units + u];
                if (p->cell_clip > 0.0f) {
                    c = c > p->cell_clip ? p->cell_clip : c < -p->cell_clip ? -p->cell_clip : c;
                }
                cell[u] = c;
                hidden[u] = gates[3 * units + u] * tanhf(c);
            }
            memcpy(output + row * units, hidden, sizeof(float) * (size_t)units);
        }
    }
    return FITML_OK;
}
