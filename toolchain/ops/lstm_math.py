"""UNIDIRECTIONAL_SEQUENCE_LSTM arithmetic as TFLite Micro computes it (lstm_eval.h EvalLstm,
Prepare in lstm_eval_common.cc): integer parameters derived once, then the float and the
int8x8->16 step loops.

int8 ("8x8->16"): each gate is FC(x) + FC(h), two int8 FULLY_CONNECTEDs with int16 outputs at the
fixed scale 2^-12 (the input FC adds the gate bias, the recurrent one none), added with int16
saturation, then TFLM's int16 sigmoid (or tanh, the cell gate) on Q3.12. The cell state is int16
at a power-of-two scale: c = f*c + i*g (two int16 MULs, the gate outputs at scale 2^-15), clipped;
h = tanh(c) * o requantized to the int8 hidden state. The model's `intermediates` (TFLite's gate
scales) are not used by TFLM.

Checked against the installed TFLM, not only its source: the source at hand spells the gate
output scale as the float 0.00003051757 (just under 2^-15), but the installed kernel behaves as
exactly 2^-15 (tests/test_lstm.py finds mismatches with the float constant once the gates
saturate).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arith import fixedpoint as fp
from ..ir import GraphError
from . import common
from . import int16_nonlinear as nl
from .fully_connected import per_tensor_multiplier

KIND = "UNIDIRECTIONAL_SEQUENCE_LSTM"
GATES = ("input", "forget", "cell", "output")
INPUT_W = (1, 2, 3, 4)              # input_to_{input,forget,cell,output}_weights
RECURRENT_W = (5, 6, 7, 8)
PEEPHOLE = (9, 10, 11)
BIAS = (12, 13, 14, 15)
PROJECTION = (16, 17)
HIDDEN, CELL = 18, 19               # variable state tensors (zero at the start of an inference)
LAYER_NORM = (20, 21, 22, 23)
GATE_SCALE = 2.0 ** -12            # FC output (Q3.12); TFLM's float 0.00024414062 is exact
GATE_OUT_SCALE = 2.0 ** -15        # sigmoid/tanh output (Q0.15), as the installed TFLM computes


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


def sizes(op, ins) -> tuple[int, int, int, int]:
    """(batch, time, input size, units)."""
    x = common.need(ins[0], "input", KIND)
    w = common.need(ins[2] if len(ins) > 2 else None, "input_to_forget_weights", KIND)
    if len(x.shape) != 3 or len(w.shape) != 2 or w.shape[1] != x.shape[2]:
        raise GraphError(f"{KIND}: input must be 3-D with its last dim equal to the weights' "
                         f"columns, got input {list(x.shape)}, weights {list(w.shape)}")
    a, b, n = x.shape
    return (b, a, n, w.shape[0]) if op.attr("time_major", False) else (a, b, n, w.shape[0])


def zero_state(ins) -> bool:
    """The states hold real zero (the int8 hidden state: its zero point, as TFLM resets it)."""
    h, c = ins[HIDDEN], ins[CELL]
    fill = h.quant.zp if h.dtype == "int8" and h.quant is not None else 0
    return bool(np.all(np.asarray(h.data) == fill) and np.all(np.asarray(c.data) == 0))


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


def run(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, time_major: bool, step):
    """The sequence loop (batches are independent, so all run together): `step(x_t, h, c)`."""
    seq = x if time_major else np.swapaxes(x, 0, 1)          # [time, batch, input]
    h, c = h0, c0
    outs = []
    for t in range(seq.shape[0]):
        h, c = step(seq[t], h, c)
        outs.append(h)
    out = np.stack(outs)
    return out if time_major else np.swapaxes(out, 0, 1)


def float_step(ws, clip: float):
    """The float32 step over weights `ws` = (w_in[4], w_rec[4], bias[4])."""
    w_in, w_rec, bias = ws

    def sigmoid(v):
        return (np.float32(1) / (np.float32(1) + np.exp(-v))).astype(np.float32)

    def step(x, h, c):
        pre = [(x @ w_in[g].T + bias[g] + h @ w_rec[g].T).astype(np.float32) for g in range(4)]
        i, f, o = sigmoid(pre[0]), sigmoid(pre[1]), sigmoid(pre[3])
        c = (f * c + i * np.tanh(pre[2])).astype(np.float32)
        if clip > 0:
            c = np.clip(c, -np.float32(clip), np.float32(clip))
        return (o * np.tanh(c)).astype(np.float32), c
    return step
