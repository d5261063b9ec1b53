"""The int8 weight order of the DSP LSTM kernel (fitml_lstm_s8's weights_dsp): its speed
without flash beyond the model's own int8 weights.

The kernel runs the four gates as one stacked matmul per step, a unit's four gate rows (input,
forget, cell, output) per pass, over the int8 input and hidden vectors widened once per step
into SXTB16 lanes (x0, x2), (x1, x3), doubled (the SMMLAR requantization takes 2 * acc). Per
unit the stream holds {the input FC's 4 biases, its taps, the recurrent FC's 4 biases, its
taps}: biases as doubled int32 words (little endian), taps per 4-deep block as [gate][k0..k3]
(one LDM; SXTB16 and SXTB16 ROR 8 of a row's word pair with the vector's lanes), then the
n % 4 leftover columns as [column][gate] (one word per column, its 4 rows' taps multiplied by
one lane with SMLA<B|T><B|T>). Only the order changes: the bytes are the int8 weights and the
int32 biases, no more.

Gate and cell activations use TFLM's 256-entry int16 sigmoid table with one more entry
(32767, as entry 255), so that TANH saturates by clamping |x| to 65535 (USAT) instead of a
test; `sigmoid` and `tanh` say what the kernel computes, `exact` checks them against the int16
LOGISTIC / TANH on every input.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import int16_nonlinear as nl
from . import lstm_int8 as li


def _fc_part(w: np.ndarray, bias: np.ndarray) -> list[np.ndarray]:
    """One FC's bytes per unit: [units][...] int8 (w [4, units, n], bias [4, units])."""
    units, n = w.shape[1], w.shape[2]
    whole = n // 4 * 4
    rows = np.transpose(w, (1, 0, 2)).astype(np.int8)                  # [units][gate][n]
    blocks = rows[:, :, :whole].reshape(units, 4, -1, 4).transpose(0, 2, 1, 3)
    tail = rows[:, :, whole:].transpose(0, 2, 1)                      # [units][column][gate]
    init = np.ascontiguousarray((2 * bias.T).astype(np.int32)).view(np.int8)  # [units][16]
    return [init, blocks.reshape(units, -1), tail.reshape(units, -1)]


def stream(p: li.Int8Lstm) -> np.ndarray:
    """weights_dsp: per unit {2 * input bias, input taps, 2 * recurrent bias, recurrent taps}."""
    parts = _fc_part(p.w_in, p.bias_in) + _fc_part(p.w_rec, p.bias_rec)
    return np.concatenate(parts, axis=1).ravel()


def table() -> np.ndarray:
    """sigmoid_table of the int8 stream path: TFLM's 256 entries and 32767 again."""
    return np.append(nl.sigmoid_table(), np.int16(32767)).astype(np.int16)


def sigmoid(pre: np.ndarray, entries: np.ndarray | None = None) -> np.ndarray:
    """The kernel's LOGISTIC of a Q3.12 gate: x = 3 * pre (|x| >> 9 <= 192: no saturation),
    16384 -+ the interpolation of table[|x| >> 9], table[+1] rounded (TFLM's sign fix)."""
    t = (table() if entries is None else entries).astype(np.int64)
    x = 3 * np.asarray(pre, np.int64)
    a = np.abs(x)
    uh, al = a >> 9, a & 511
    v = (t[uh] * (512 - al) + t[uh + 1] * al + 512) >> 10
    return 16384 + np.where(x < 0, -v, v)


def tanh(x: np.ndarray, entries: np.ndarray | None = None) -> np.ndarray:
    """The kernel's TANH of a rescaled input: |x| clamped to 65535, then -+ the interpolation
    of table[|x| >> 8], table[+1] rounded."""
    t = (table() if entries is None else entries).astype(np.int64)
    x = np.asarray(x, np.int64)
    a = np.minimum(np.abs(x), 65535)
    uh, al = a >> 8, a & 255
    v = (t[uh] * (256 - al) + t[uh + 1] * al + 128) >> 8
    return np.where(x < 0, -v, v)


@lru_cache(maxsize=64)
def exact(tanh_m: int, tanh_s: int) -> bool:
    """sigmoid and tanh equal the int16 LOGISTIC / TANH on every int16 gate input, and tanh
    on every cell state rescaled by (tanh_m, tanh_s) as the kernel does it."""
    q = np.arange(-32768, 32768, dtype=np.int64)
    cell = (q * tanh_m + ((1 << (tanh_s - 1)) if tanh_s > 0 else 0)) >> tanh_s
    return (np.array_equal(sigmoid(q), nl.logistic_s16(q, 0, 0))
            and np.array_equal(tanh(3 * q), nl.tanh_s16(q, 0, 0))
            and np.array_equal(tanh(cell), nl.tanh_s16(q, tanh_m, tanh_s)))
