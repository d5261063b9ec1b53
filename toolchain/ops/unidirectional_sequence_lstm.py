"""UNIDIRECTIONAL_SEQUENCE_LSTM: the standard (Keras) LSTM over a [batch, time, input] sequence
(time_major: [time, batch, input]), float32 or int8x8->16, as TFLite Micro runs it.

TFLite's 24 inputs: 0 input, 1-4 input-to-gate weights, 5-8 recurrent weights, 9-11 peephole,
12-15 gate biases, 16-17 projection, 18 hidden state, 19 cell state, 20-23 layer norm (gate
order input, forget, cell, output). The states are variable tensors that TFLM resets to real
zero (int8: the zero point); the reader gives them as such constants and fitml starts every
inference from them (TFLM keeps them across Invoke() calls until ResetVariableTensors).
Peephole, projection, layer-norm, CIFG and 16x8 variants are refused (TFLM refuses the first
four).
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from . import common, lstm_lowering, lstm_math as lm
from .lstm_math import sizes
from .registry import Node, OpDef, register

KIND = "UNIDIRECTIONAL_SEQUENCE_LSTM"
VARIANTS = ((lm.PEEPHOLE, "peephole weights (inputs 9-11)"),
            (lm.PROJECTION, "projection weights/bias (inputs 16-17)"),
            (lm.LAYER_NORM, "layer-norm coefficients (inputs 20-23)"))


def _input(ins, i):
    return ins[i] if i < len(ins) else None


@register
class UnidirectionalSequenceLstm(OpDef):
    kind = KIND
    tflite_options = "UnidirectionalSequenceLSTMOptions"
    variable_inputs = (lm.HIDDEN, lm.CELL)      # the writer stores these as variable tensors
    tflite_inputs = 24                          # TFLM's kernel wants all 24 slots (-1: absent)

    @staticmethod
    def infer(op, ins):
        batch, time, _, units = sizes(op, ins)
        shape = (time, batch, units) if op.attr("time_major", False) else (batch, time, units)
        return [(shape, ins[0].dtype)]

    @staticmethod
    def check(op, ins, outs):
        batch, _, n_in, units = sizes(op, ins)
        for idx, what in VARIANTS:
            if any(_input(ins, i) is not None for i in idx):
                raise GraphError(f"{KIND}: {what} are not supported (TFLite Micro runs only the "
                                 "standard LSTM)")
        if _input(ins, 1) is None or _input(ins, 5) is None:
            raise GraphError(f"{KIND}: CIFG (no input gate weights) is not supported")
        if op.attr("activation", "TANH") != "TANH" or op.attr("diagonal_recurrent", False):
            raise GraphError(f"{KIND}: only activation TANH with full recurrent weights is "
                             f"supported, got {op.attr('activation')}")
        want = {i: (units, n_in) for i in lm.INPUT_W}
        want.update({i: (units, units) for i in lm.RECURRENT_W})
        want.update({i: (units,) for i in lm.BIAS})
        for i, shape in want.items():
            t = common.need(_input(ins, i), f"input {i}", KIND)
            if t.shape != shape or not t.is_const:
                raise GraphError(f"{KIND}: input {i} ({t.name!r}) must be a constant of shape "
                                 f"{list(shape)}, got {list(t.shape)}")
        for i in (lm.HIDDEN, lm.CELL):
            t = common.need(_input(ins, i), "state (inputs 18, 19)", KIND)
            if not t.is_const or t.size != batch * units:
                raise GraphError(f"{KIND}: state {t.name!r} must be a zero-initialized variable "
                                 f"of {batch * units} elements")
        if ins[0].dtype == "float32":
            bad = [t.name for t in ins if t is not None and t.dtype != "float32"]
            if bad:
                raise GraphError(f"{KIND}: float input with non-float tensors {bad} (hybrid "
                                 "LSTM) is not supported")
            return
        if ins[0].dtype != "int8":
            raise GraphError(f"{KIND}: {ins[0].dtype} activations are not supported (float32, "
                             "int8)")
        _check_int8(ins, outs)

    @staticmethod
    def reference(node: Node, args):
        x = np.asarray(args[0])
        batch, _, _, units = sizes(node.op, node.ins)
        h0 = np.asarray(args[lm.HIDDEN]).reshape(batch, units)
        c0 = np.asarray(args[lm.CELL]).reshape(batch, units)
        major = bool(node.attr("time_major", False))
        if not node.quantized:
            ws = tuple([np.asarray(args[i], np.float32) for i in idx]
                       for idx in (lm.INPUT_W, lm.RECURRENT_W, lm.BIAS))
            out = lm.run(x.astype(np.float32), h0.astype(np.float32), c0.astype(np.float32),
                         major, lm.float_step(ws, float(node.attr("cell_clip", 0.0))))
            return [out.astype(np.float32)]
        p = lm.int8_params(node.ins, float(node.attr("cell_clip", 0.0)))
        out = lm.run(x.astype(np.int64), h0.astype(np.int64), c0.astype(np.int64), major,
                     lambda xt, h, c: lm.int8_step(p, xt, h, c))
        return [out.astype(np.int8)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(activation=common.activation_name(
                        common.options_get(o, "fusedActivationFunction", 0)),
                    cell_clip=float(common.options_get(o, "cellClip", 0.0)),
                    proj_clip=float(common.options_get(o, "projClip", 0.0)),
                    time_major=bool(common.options_get(o, "timeMajor", False)),
                    asymmetric_quantize_inputs=bool(
                        common.options_get(o, "asymmetricQuantizeInputs", False)),
                    diagonal_recurrent=bool(
                        common.options_get(o, "diagonalRecurrentTensors", False)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.UnidirectionalSequenceLSTMOptionsT()
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "TANH"))
        o.cellClip = float(attrs.get("cell_clip", 0.0))
        o.projClip = float(attrs.get("proj_clip", 0.0))
        o.timeMajor = bool(attrs.get("time_major", False))
        o.asymmetricQuantizeInputs = bool(attrs.get("asymmetric_quantize_inputs", False))
        o.diagonalRecurrentTensors = bool(attrs.get("diagonal_recurrent", False))
        return o

    @staticmethod
    def macs(node):
        batch, time, n_in, units = sizes(node.op, node.ins)
        return batch * time * 4 * units * (n_in + units)

    @staticmethod
    def lower_c(node: Node):
        return lstm_lowering.lower(node)


def _check_int8(ins, outs) -> None:
    """int8x8->16: int8 input, per-tensor int8 weights, int32 biases, int8 hidden state, int16
    cell state at a power-of-two scale (what TFLM's integer kernel assumes)."""
    h, c = ins[lm.HIDDEN], ins[lm.CELL]
    for i in lm.INPUT_W + lm.RECURRENT_W:
        w = ins[i]
        if w.dtype != "int8" or w.quant is None or w.quant.scale.size != 1:
            raise GraphError(f"{KIND}: int8 LSTM needs per-tensor int8 weights, input {i} "
                             f"({w.name!r}) is {w.dtype}")
    for i in lm.BIAS:
        if ins[i].dtype != "int32":
            raise GraphError(f"{KIND}: int8 LSTM needs int32 biases, input {i} is "
                             f"{ins[i].dtype}")
    if h.dtype != "int8" or h.quant is None or c.dtype != "int16" or c.quant is None:
        raise GraphError(f"{KIND}: int8 LSTM needs a quantized int8 hidden state and int16 cell "
                         f"state, got {h.dtype} and {c.dtype}")
    if not lm.nl.checked_log2(c.quant.s)[0] or c.quant.zp != 0:
        raise GraphError(f"{KIND}: cell state scale {c.quant.s:g} is not a power of two with "
                         "zero point 0")
    if outs and outs[0].dtype != "int8":
        raise GraphError(f"{KIND}: int8 LSTM output must be int8")
