"""UNPACK: `num` outputs, the slices of the input along `axis` (the axis is dropped).

TFLM's unpack copies raw elements and reads no quantization. The C lowering is SPLIT's
(fitml_split into parts of size 1): the bytes are the same, only the shapes differ.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from . import common
from .concatenation import positive_axis
from .registry import Node, OpDef, register
from .split import split_call

DTYPES = ("float32", "int8", "int16", "int32")


def unpack_axis(op, x) -> int:
    return positive_axis(int(op.attr("axis", 0)), len(x.shape), "UNPACK")


@register
class Unpack(OpDef):
    kind = "UNPACK"
    tflite_options = "UnpackOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "UNPACK")
        if x.dtype not in DTYPES:
            raise GraphError(f"UNPACK: {x.dtype} input {x.name!r} is not supported "
                             f"(TFLite Micro takes {', '.join(DTYPES)})")
        axis = unpack_axis(op, x)
        num = int(op.attr("num", x.shape[axis]))
        if num != x.shape[axis]:
            raise GraphError(f"UNPACK: num {num} but axis {axis} has size {x.shape[axis]}")
        shape = x.shape[:axis] + x.shape[axis + 1:]
        return [(shape, x.dtype)] * num

    @staticmethod
    def reference(node: Node, args):
        axis = unpack_axis(node.op, node.ins[0])
        x = np.asarray(args[0])
        return [np.ascontiguousarray(np.take(x, i, axis=axis)) for i in range(x.shape[axis])]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(num=int(common.options_get(o, "num", 0)),
                    axis=int(common.options_get(o, "axis", 0)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.UnpackOptionsT()
        o.num = int(attrs.get("num", 0))
        o.axis = int(attrs.get("axis", 0))
        return o

    @staticmethod
    def lower_c(node: Node):
        x = node.ins[0]
        axis = unpack_axis(node.op, x)
        return split_call(node, x, axis, [1] * x.shape[axis])
