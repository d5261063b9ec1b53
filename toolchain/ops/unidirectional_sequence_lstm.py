"""UNIDIRECTIONAL_SEQUENCE_LSTM: the standard (Keras) LSTM over a [batch, time, input] sequence
(time_major: [time, batch, input]), float32 or int8x8->16, as TFLite Micro runs it.

TFLite's 24 inputs: 0 input, 1-4 input-to-gate weights, 5-8 recurrent weights, 9-11 peephole,
12-15 gate biases, 16-17 projection, 18 hidden state, 19 cell state, 20-23 layer norm (gate
order input, forget, cell, output). The states are variable tensors, and the op is stateful as
TFLite Micro runs it: each invoke starts from the states the previous one left, until
ResetVariableTensors sets them back to real zero (int8 hidden state: its zero point; the reader
gives that as their initial value). So `reference` returns the output, then the final hidden
and cell states, which the interpreter keeps (`interpreter.StatefulRun`); the C code keeps them
in static arrays of model.c, reset by `<prefix>_reset_state()`.
Peephole, projection, layer-norm, CIFG and 16x8 variants are refused (TFLM refuses the first
four).
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from . import common, lstm_lowering
from . import lstm_int8 as li
from . import lstm_math as lm
from .lstm_checks import check_lstm
from .lstm_math import KIND, sizes
from .opdef import OpDef
from .registry import Node, register


@register
class UnidirectionalSequenceLstm(OpDef):
    kind = KIND
    tflite_options = "UnidirectionalSequenceLSTMOptions"
    variable_inputs = (lm.HIDDEN, lm.CELL)      # the writer stores these as variable tensors
    stateful = True                             # reference returns [output, hidden, cell]
    tflite_inputs = 24                          # TFLM's kernel wants all 24 slots (-1: absent)

    @staticmethod
    def infer(op, ins):
        batch, time, _, units = sizes(op, ins)
        shape = (time, batch, units) if op.attr("time_major", False) else (batch, time, units)
        return [(shape, ins[0].dtype)]

    @staticmethod
    def check(op, ins, outs):
        check_lstm(op, ins, outs)

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
            out, h, c = lm.run(x.astype(np.float32), h0.astype(np.float32),
                               c0.astype(np.float32), major,
                               lm.float_step(ws, float(node.attr("cell_clip", 0.0))))
            dtypes = (np.float32, np.float32, np.float32)
        else:
            p = li.int8_params(node.ins, float(node.attr("cell_clip", 0.0)))
            out, h, c = lm.run(x.astype(np.int64), h0.astype(np.int64), c0.astype(np.int64),
                               major, lambda xt, h, c: li.int8_step(p, xt, h, c))
            dtypes = (np.int8, np.int8, np.int16)
        states = (node.ins[lm.HIDDEN].shape, node.ins[lm.CELL].shape)
        return [out.astype(dtypes[0]), h.reshape(states[0]).astype(dtypes[1]),
                c.reshape(states[1]).astype(dtypes[2])]

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
