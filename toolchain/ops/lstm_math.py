"""UNIDIRECTIONAL_SEQUENCE_LSTM arithmetic as TFLite Micro computes it (lstm_eval.h EvalLstm,
Prepare in lstm_eval_common.cc): the operand layout, the sequence loop and the float step; the
int8x8->16 parameters and step are in lstm_int8.py.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from . import common

KIND = "UNIDIRECTIONAL_SEQUENCE_LSTM"
GATES = ("input", "forget", "cell", "output")
INPUT_W = (1, 2, 3, 4)              # input_to_{input,forget,cell,output}_weights
RECURRENT_W = (5, 6, 7, 8)
PEEPHOLE = (9, 10, 11)
BIAS = (12, 13, 14, 15)
PROJECTION = (16, 17)
HIDDEN, CELL = 18, 19               # variable state tensors, kept across invokes
LAYER_NORM = (20, 21, 22, 23)
GATE_SCALE = 2.0 ** -12            # FC output (Q3.12); TFLM's float 0.00024414062 is exact
GATE_OUT_SCALE = 2.0 ** -15        # sigmoid/tanh output (Q0.15), as the installed TFLM computes


def sizes(op, ins) -> tuple[int, int, int, int]:
    """(batch, time, input size, units)."""
    x = common.need(ins[0], "input", KIND)
    w = common.need(ins[2] if len(ins) > 2 else None, "input_to_forget_weights", KIND)
    if len(x.shape) != 3 or len(w.shape) != 2 or w.shape[1] != x.shape[2]:
        raise GraphError(f"{KIND}: input must be 3-D with its last dim equal to the weights' "
                         f"columns, got input {list(x.shape)}, weights {list(w.shape)}")
    a, b, n = x.shape
    return (b, a, n, w.shape[0]) if op.attr("time_major", False) else (a, b, n, w.shape[0])


def run(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, time_major: bool, step):
    """The sequence loop (batches are independent, so all run together): `step(x_t, h, c)`.
    Returns the output and the final hidden and cell states [batch, units]."""
    seq = x if time_major else np.swapaxes(x, 0, 1)          # [time, batch, input]
    h, c = h0, c0
    outs = []
    for t in range(seq.shape[0]):
        h, c = step(seq[t], h, c)
        outs.append(h)
    out = np.stack(outs) if outs else np.zeros((0,) + h0.shape, h0.dtype)
    return (out if time_major else np.swapaxes(out, 0, 1)), h, c


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
