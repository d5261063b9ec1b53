"""C lowering of UNIDIRECTIONAL_SEQUENCE_LSTM: fitml_lstm_s8 / fitml_lstm_f32 (fitml_lstm.h).

The four gates' weights are packed into one [4][units][...] array per kind (the model's
separate tensors are then not emitted); every integer comes from lstm_int8, the reference's
own derivation. The hidden and cell states are the model's static arrays (StateRef), read and
updated in place, kept across invokes; the scratch holds only the gates and the widened
operands. DSP builds get instead one int16 layout (filter_dsp: pre-widened doubled weights per
4 units, then the sigmoid/tanh interpolation tables), when the SMMLAR path is proven and flash
allows; without it (flash) the int8 weights and biases reordered for the DSP kernel (weights_dsp,
lstm_s8_stream), the same bytes.
"""
from __future__ import annotations

import numpy as np

from ..lowering import cdsp, cparams, cvariant
from ..lowering.ccall import CArray, CCall, Scratch, StateRef
from ..arith import fixedpoint as fp
from . import int16_nonlinear as nl
from . import lstm_int8 as li
from . import lstm_math as lm
from . import lstm_s8_stream
from .lstm_dsp import dsp_fast, dsp_layout, lerp_exact, lerp_tables


def _words(n: int) -> int:
    return 2 * ((n + 3) // 4)


def scratch_bytes_s8(n_in: int, units: int) -> int:
    """fitml_lstm_s8_scratch_size: widened x and h, the 4 gates (int16)."""
    return 4 * (_words(n_in) + _words(units)) + 8 * units


def _shape(node) -> dict:
    batch, time, n_in, units = lm.sizes(node.op, node.ins)
    return dict(batches=batch, time_steps=time, input_size=n_in, units=units,
                time_major=int(bool(node.attr("time_major", False))),
                hidden_state=StateRef(node.ins[lm.HIDDEN].name),
                cell_state=StateRef(node.ins[lm.CELL].name))


def lower(node) -> CCall:
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
                     io, scratch_bytes=4 * 4 * shape["units"])
    if any(node.ins[i].quant.zp != 0 for i in lm.INPUT_W + lm.RECURRENT_W):
        raise cparams.unsupported(node, "weight zero points must be 0")
    p = li.int8_params(node.ins, float(node.attr("cell_clip", 0.0)))
    tanh_m, tanh_s = p.cell_tanh
    if tanh_m == 0:                 # TFLM's power-of-two case: multiplier 3 << shift
        tanh_m, tanh_s = 3 << tanh_s, 0
    if tanh_m > 32767:
        raise cparams.unsupported(node, "cell state scale too large for the int16 tanh")

    def i32(v):
        return CArray(fp.wrap32(v).astype(np.int32), "int32_t", role="weights")
    fast = dsp_fast(p)
    # The DSP kernel's int16 layout replaces the int8 weights (only src/dsp reads it: MVE builds
    # link the portable kernel), unless clayouts gave it up for flash; then the int8 weights and
    # biases in the DSP kernel's order (no more flash than the plain ones).
    dsp = fast and cvariant.current_variant() == "dsp"
    layout = dsp and cvariant.wants_layout(node) and lerp_exact(p, tanh_m, tanh_s)
    stream = dsp and not layout and lstm_s8_stream.exact(tanh_m, tanh_s)
    w_in, w_rec = ("NULL", "NULL") if layout or stream else (
        CArray(p.w_in.astype(np.int8), "int8_t", role="weights"),
        CArray(p.w_rec.astype(np.int8), "int8_t", role="weights"))
    params = dict(
        shape, input_weights=w_in, recurrent_weights=w_rec,
        input_bias="NULL" if stream else i32(p.bias_in),
        recurrent_bias="NULL" if stream else i32(p.bias_rec),
        input_multiplier=[m for m, _ in p.mult_in], input_shift=[s for _, s in p.mult_in],
        recurrent_multiplier=[m for m, _ in p.mult_rec],
        recurrent_shift=[s for _, s in p.mult_rec],
        forget_multiplier=p.forget_mul[0], forget_shift=p.forget_mul[1],
        update_multiplier=p.update_mul[0], update_shift=p.update_mul[1],
        hidden_multiplier=p.hidden_mul[0], hidden_shift=p.hidden_mul[1],
        hidden_zp=p.hidden_zp, cell_clip=p.cell_clip, cell_tanh_multiplier=tanh_m,
        cell_tanh_shift=tanh_s, dsp_fast=int(fast),
        sigmoid_table=CArray(lstm_s8_stream.table() if stream else nl.sigmoid_table(),
                             "int16_t"),
        filter_dsp=CArray(np.concatenate([dsp_layout(p).ravel()] + [
            cdsp.int16_words(t).ravel() for t in lerp_tables()]), "int16_t", role="weights")
        if layout else "NULL",
        weights_dsp=CArray(lstm_s8_stream.stream(p), "int8_t", role="weights")
        if stream else "NULL")
    return CCall("fitml_lstm_s8", "fitml_lstm_s8_params", params, io,
                 scratch_bytes=scratch_bytes_s8(shape["input_size"], shape["units"]))
