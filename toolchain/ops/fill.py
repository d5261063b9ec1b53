"""FILL: a tensor of constant dims holding one scalar value (float32, int8, int32 as TFLM
fill.cc; the value's type is the output's, copied raw).

With a constant value the constant folding pass (passes/fold_constants.py) replaces it by its
result; a computed value (e.g. a reduction of the input) is written by a TRANSPOSE walk of the
scalar with every stride 0 (broadcast_to.repeat_call).
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from . import common
from .broadcast_to import repeat_call
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8", "int32")


@register
class Fill(OpDef):
    kind = "FILL"
    tflite_options = "FillOptions"

    @staticmethod
    def infer(op, ins):
        dims = common.const_ints(ins[0] if ins else None, "dims", "FILL")
        value = common.need(ins[1] if len(ins) > 1 else None, "value", "FILL")
        if dims.ndim != 1 or (dims < 0).any():
            raise GraphError(f"FILL: dims {dims.tolist()} must be 1-D sizes >= 0")
        if value.shape != ():
            raise GraphError(f"FILL: value {value.name!r} must be a scalar, has shape "
                             f"{list(value.shape)}")
        if value.dtype not in DTYPES:
            raise GraphError(f"FILL: {value.dtype} value {value.name!r} is not supported "
                             f"(TFLite Micro takes {', '.join(DTYPES)})")
        return [(tuple(int(d) for d in dims), value.dtype)]

    @staticmethod
    def reference(node: Node, args):
        return [np.full(node.outs[0].shape, np.asarray(args[1]).reshape(()),
                        node.outs[0].dtype)]

    @staticmethod
    def attrs_to_tflite(attrs):
        return schema.FillOptionsT()

    @staticmethod
    def lower_c(node: Node):
        return repeat_call(node, node.ins[1], [0] * len(node.outs[0].shape))
