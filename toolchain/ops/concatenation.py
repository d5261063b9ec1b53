"""CONCATENATION: join inputs along `axis` (negative counts from the end); a raw byte copy.

TFLM (and TFLite) accept only fused activation NONE, and TFLM refuses int8 inputs whose scale
or zero point differ from the output's, since no requantization happens.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from . import common
from .opdef import OpDef
from .registry import Node, register


def positive_axis(axis: int, rank: int, op: str) -> int:
    """`axis` in [0, rank); negative values count from the end; GraphError otherwise."""
    if not -rank <= axis < rank:
        raise GraphError(f"{op}: axis {axis} out of range for rank {rank}")
    return axis % rank


@register
class Concatenation(OpDef):
    kind = "CONCATENATION"
    tflite_options = "ConcatenationOptions"

    @staticmethod
    def infer(op, ins):
        if not ins:
            raise GraphError("CONCATENATION: no inputs")
        xs = [common.need(t, f"input {i}", "CONCATENATION") for i, t in enumerate(ins)]
        first = xs[0]
        rank = len(first.shape)
        axis = positive_axis(int(op.attr("axis", 0)), rank, "CONCATENATION")
        total = 0
        for t in xs:
            if t.dtype != first.dtype:
                raise GraphError(f"CONCATENATION: input {t.name!r} is {t.dtype}, "
                                 f"{first.name!r} is {first.dtype}")
            other = [d for i, d in enumerate(t.shape) if i != axis]
            if len(t.shape) != rank or other != [d for i, d in enumerate(first.shape)
                                                 if i != axis]:
                raise GraphError(f"CONCATENATION: input {t.name!r} shape {list(t.shape)} does "
                                 f"not match {list(first.shape)} off axis {axis}")
            total += t.shape[axis]
        shape = first.shape[:axis] + (total,) + first.shape[axis + 1:]
        return [(shape, first.dtype)]

    @staticmethod
    def check(op, ins, outs):
        act = op.attr("activation", "NONE")
        if act != "NONE":
            raise GraphError(f"CONCATENATION: fused activation {act} is not supported "
                             "(TFLite and TFLM require NONE)")
        out = outs[0]
        if out.dtype != "int8":
            return
        want = common.qparams(out)
        for t in ins:
            if t.quant is None or common.qparams(t) != want:
                got = None if t.quant is None else common.qparams(t)
                raise GraphError(f"CONCATENATION: int8 input {t.name!r} has (scale, zp) "
                                 f"{got}, output has {want}; TFLM requires them equal")

    @staticmethod
    def reference(node: Node, args):
        axis = int(node.attr("axis", 0)) % len(node.outs[0].shape)
        return [np.concatenate([np.asarray(a) for a in args], axis=axis)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(axis=int(common.options_get(o, "axis", 0)),
                    activation=common.activation_name(
                        common.options_get(o, "fusedActivationFunction", 0)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.ConcatenationOptionsT()
        o.axis = int(attrs.get("axis", 0))
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "NONE"))
        return o

    @staticmethod
    def lower_c(node: Node):
        """fitml_concat: per outer index, each input's contiguous chunk in turn."""
        out = node.outs[0]
        axis = int(node.attr("axis", 0)) % len(out.shape)
        inner = int(np.prod(out.shape[axis + 1:], dtype=np.int64)) * np.dtype(out.dtype).itemsize
        params = dict(num_inputs=len(node.ins),
                      outer=int(np.prod(out.shape[:axis], dtype=np.int64)),
                      chunk_bytes=cparams.i32([t.shape[axis] * inner for t in node.ins]))
        return CCall("fitml_concat", "fitml_concat_params", params,
                     (tuple(cparams.ref(t) for t in node.ins), cparams.ref(out)))
