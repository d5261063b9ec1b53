"""UNIDIRECTIONAL_SEQUENCE_LSTM int8 ("8x8->16") as TFLite Micro computes it: the integer
parameters Prepare derives once (lstm_eval_common.cc) and the step of lstm_eval.h.

Each gate is FC(x) + FC(h), two int8 FULLY_CONNECTEDs with int16 outputs at the
fixed scale 2^-12 (the input FC adds the gate bias, the recurrent one none), added with int16
saturation, then TFLM's int16 sigmoid (or tanh, the cell gate) on Q3.12. The cell state is int16
at a power-of-two scale: c = f*c + i*g (two int16 MULs, the gate outputs at scale 2^-15), clipped;
h = tanh(c) * o requantized to the int8 hidden state. The model's `intermediates` (TFLite's gate
scales) are not used by TFLM.

Checked against the installed TFLM, not only its source: the source at hand spells the gate
output scale as the float 0.00003051757 (just under 2^-15), but the installed kernel behaves as
exactly 2^-15 (tests/test_lstm_reference.py finds mismatches with the float constant once the
gates saturate).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arith import fixedpoint as fp
from . import int16_nonlinear as nl
from .fully_connected import per_tensor_multiplier
from .lstm_math import BIAS, CELL, GATE_OUT_SCALE, GATE_SCALE, HIDDEN, INPUT_W, RECURRENT_W


@dataclass(frozen=True)
class Int8Lstm:
    """What TFLM's Prepare derives, gates in GATES order (arrays [4, units, ...])."""

    w_in: np.ndarray            # int64 [4, units, input_size]
    w_rec: np.ndarray           # int64 [4, units, units]
    bias_in: np.ndarray         # int64 [4, units]: gate bias - zp_in * row sums
    bias_rec: np.ndarray        # int64 [4, units]: -zp_h * row sums
    mult_in: tuple              # (M, shift) per gate
    mult_rec: tuple
    forget_mul: tuple           # forget gate x cell -> cell
    update_mul: tuple           # input gate x cell gate -> cell
    hidden_mul: tuple           # tanh(cell) x output gate -> hidden
    hidden_zp: int
    cell_clip: int              # quantized; 0: no clip
    cell_tanh: tuple            # (multiplier, left shift) of tanh(cell)'s int16 input rescale


def cell_power(s_cell: float) -> int:
    """log2 of the cell scale (TFLM's CheckedLog2, result rounded)."""
    return nl.checked_log2(s_cell)[1]


def _mul(s1: float, s2: float, s_out: float) -> tuple[int, int]:
    """CreateInterGateMulParams: double(s1) * double(s2) / double(s_out)."""
    return fp.quantize_multiplier(float(np.float64(np.float32(s1)) * np.float64(np.float32(s2))
                                        / np.float64(np.float32(s_out))))


def int8_params(ins, cell_clip: float) -> Int8Lstm:
    x, h, c = ins[0], ins[HIDDEN], ins[CELL]
    s_in, zp_in = x.quant.s, x.quant.zp
    s_h, zp_h = h.quant.s, h.quant.zp
    w_in = np.stack([np.asarray(ins[i].data, np.int64) - ins[i].quant.zp for i in INPUT_W])
    w_rec = np.stack([np.asarray(ins[i].data, np.int64) - ins[i].quant.zp for i in RECURRENT_W])
    bias = np.stack([np.asarray(ins[i].data, np.int64) if ins[i] is not None
                     else np.zeros(w_in.shape[1], np.int64) for i in BIAS])
    s_c = c.quant.s
    power = cell_power(s_c)
    shift = 15 + power - 3           # lstm_internal::Tanh(cell_state_scale_power)
    tanh = (3, -shift) if shift < 0 else (0, shift)
    return Int8Lstm(
        w_in, w_rec, bias - zp_in * w_in.sum(axis=2), -zp_h * w_rec.sum(axis=2),
        tuple(per_tensor_multiplier(s_in, ins[i].quant.s, GATE_SCALE) for i in INPUT_W),
        tuple(per_tensor_multiplier(s_h, ins[i].quant.s, GATE_SCALE) for i in RECURRENT_W),
        _mul(GATE_OUT_SCALE, s_c, s_c), _mul(GATE_OUT_SCALE, GATE_OUT_SCALE, s_c),
        _mul(GATE_OUT_SCALE, GATE_OUT_SCALE, s_h), zp_h, quantized_clip(cell_clip, s_c), tanh)


def quantized_clip(clip: float, s_cell: float) -> int:
    """CreateLstmCellStateInfo: int16(clamp(clip / s_cell)), truncated toward zero."""
    if clip <= 0:
        return 0
    return int(min(max(float(np.float32(clip)) / float(np.float32(s_cell)), -32768.0), 32767.0))


def _sat16(v):
    return np.clip(v, -32768, 32767)


def _fc16(x, w, bias, mult):
    """int8 FC with int16 output at 2^-12: raw codes (zero points folded into the bias)."""
    acc = fp.wrap32(np.einsum("bk,uk->bu", x, w) + bias)
    return _sat16(fp.mbqm(acc, *mult))


def int8_step(p: Int8Lstm, x, h, c):
    """One time step for a [batch, ...] slice: returns (new h int64, new c int64)."""
    gates = []
    for g in (1, 0, 2, 3):          # TFLM's order: forget, input, cell (cell update), output
        pre = _sat16(_fc16(x, p.w_in[g], p.bias_in[g], p.mult_in[g])
                     + _fc16(h, p.w_rec[g], p.bias_rec[g], p.mult_rec[g]))
        act = nl.tanh_s16(pre, 0, 0) if g == 2 else nl.logistic_s16(pre, 0, 0)
        gates.append(act.astype(np.int64))
    f, i, g, o = gates
    c = _sat16(_sat16(fp.mbqm(f * c, *p.forget_mul)) + _sat16(fp.mbqm(i * g, *p.update_mul)))
    if p.cell_clip > 0:
        c = np.clip(c, -p.cell_clip, p.cell_clip)
    t = nl.tanh_s16(c, *p.cell_tanh).astype(np.int64)
    h = np.clip(fp.mbqm(t * o, *p.hidden_mul) + p.hidden_zp, -128, 127)
    return h, c
