"""C lowering of UNIDIRECTIONAL_SEQUENCE_LSTM: fitml_lstm_s8 / fitml_lstm_f32 (fitml_lstm.h).

The four gates' weights are packed into one [4][units][...] array per kind (the model's
separate tensors are then not emitted); every integer comes from lstm_math, the reference's
own derivation. The states live in the kernel's scratch, zeroed at each call.
"""
from __future__ import annotations

import numpy as np

from ..backends import cparams
from ..backends.clower import CArray, CCall, Scratch
from ..quant import fixedpoint as fp
from . import int16_nonlinear as nl
from . import lstm_math as lm


def _words(n: int) -> int:
    return 2 * ((n + 3) // 4)


def scratch_bytes_s8(n_in: int, units: int) -> int:
    """fitml_lstm_s8_scratch_size: widened x and h, cell, 4 gates (int16), hidden (int8)."""
    return (4 * (_words(n_in) + _words(units)) + 11 * units + 3) & ~3


def dsp_fast(p: lm.Int8Lstm) -> bool:
    """The DSP kernel's SMMLAR requantization is exact: every shift a right shift e in
    [1, 31] whose rounding constant 2^(e-1) + zp * 2^e fits int32, and every accumulator
    below 2^30 (gate products are < 2^30 by the int16 ranges; the FCs by sum |w| * 128)."""
    pairs = [(s, 0) for _, s in p.mult_in + p.mult_rec + (p.forget_mul, p.update_mul)]
    pairs.append((p.hidden_mul[1], p.hidden_zp))
    for s, zp in pairs:
        e = -int(s)
        if not 1 <= e <= 31 or abs(zp * (1 << e)) + (1 << (e - 1)) >= 1 << 31:
            return False
    bound = max(int((np.abs(w).sum(axis=2) * 128 + np.abs(b)).max())
                for w, b in ((p.w_in, p.bias_in), (p.w_rec, p.bias_rec)))
    return bound < 1 << 30


def _shape(node) -> dict:
    from .unidirectional_sequence_lstm import sizes

    batch, time, n_in, units = sizes(node.op, node.ins)
    return dict(batches=batch, time_steps=time, input_size=n_in, units=units,
                time_major=int(bool(node.attr("time_major", False))))


def lower(node) -> CCall:
    if not lm.zero_state(node.ins):
        raise cparams.unsupported(node, "the C kernel starts from a zero state")
    shape = _shape(node)
    io = (cparams.ref(node.ins[0]), cparams.ref(node.outs[0]), Scratch())
    if not node.quantized:
        def stack(idx):
            return CArray(np.stack([np.asarray(node.ins[i].data, np.float32) for i in idx]),
                          "float", role="weights")
        return CCall("fitml_lstm_f32", "fitml_lstm_f32_params",
                     dict(shape, input_weights=stack(lm.INPUT_W),
                          recurrent_weights=stack(lm.RECURRENT_W), bias=stack(lm.BIAS),
                          cell_clip=float(np.float32(node.attr("cell_clip", 0.0)))),
                     io, scratch_bytes=6 * 4 * shape["units"])
    if any(node.ins[i].quant.zp != 0 for i in lm.INPUT_W + lm.RECURRENT_W):
        raise cparams.unsupported(node, "weight zero points must be 0")
    p = lm.int8_params(node.ins, float(node.attr("cell_clip", 0.0)))
    tanh_m, tanh_s = p.cell_tanh
    if tanh_m == 0:                 # TFLM's power-of-two case: multiplier 3 << shift
        tanh_m, tanh_s = 3 << tanh_s, 0
    if tanh_m > 32767:
        raise cparams.unsupported(node, "cell state scale too large for the int16 tanh")

    def i32(v):
        return CArray(fp.wrap32(v).astype(np.int32), "int32_t", role="weights")
    params = dict(
        shape, input_weights=CArray(p.w_in.astype(np.int8), "int8_t", role="weights"),
        recurrent_weights=CArray(p.w_rec.astype(np.int8), "int8_t", role="weights"),
        input_bias=i32(p.bias_in), recurrent_bias=i32(p.bias_rec),
        input_multiplier=[m for m, _ in p.mult_in], input_shift=[s for _, s in p.mult_in],
        recurrent_multiplier=[m for m, _ in p.mult_rec],
        recurrent_shift=[s for _, s in p.mult_rec],
        forget_multiplier=p.forget_mul[0], forget_shift=p.forget_mul[1],
        update_multiplier=p.update_mul[0], update_shift=p.update_mul[1],
        hidden_multiplier=p.hidden_mul[0], hidden_shift=p.hidden_mul[1],
        hidden_zp=p.hidden_zp, cell_clip=p.cell_clip, cell_tanh_multiplier=tanh_m,
        cell_tanh_shift=tanh_s, dsp_fast=int(dsp_fast(p)),
        sigmoid_table=CArray(nl.sigmoid_table(), "int16_t"))
    return CCall("fitml_lstm_s8", "fitml_lstm_s8_params", params, io,
                 scratch_bytes=scratch_bytes_s8(shape["input_size"], shape["units"]))
