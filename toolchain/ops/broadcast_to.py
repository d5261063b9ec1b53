"""BROADCAST_TO: the input repeated to a constant shape (NumPy broadcasting, rank <= 5 as TFLM
broadcast_to.cc); any element type, copied raw. The C lowering is a TRANSPOSE walk whose
strides are 0 along the broadcast dimensions. FILL (fill.py) walks its scalar the same way.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8", "int16", "int32")
MAX_RANK = 5


def repeat_call(node: Node, source, steps) -> CCall:
    """fitml_transpose filling the output row-major from `source` read with element `steps`
    per output dimension (0 repeats)."""
    out = node.outs[0]
    return CCall("fitml_transpose", "fitml_transpose_params",
                 dict(walk=cparams.walk(list(out.shape) or [1], list(steps) or [0]), offset=0,
                      elem_size=np.dtype(out.dtype).itemsize),
                 (cparams.ref(source), cparams.ref(out)))


@register
class BroadcastTo(OpDef):
    kind = "BROADCAST_TO"
    tflite_options = "BroadcastToOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "BROADCAST_TO")
        if x.dtype not in DTYPES:
            raise GraphError(f"BROADCAST_TO: {x.dtype} input {x.name!r} is not supported "
                             f"({', '.join(DTYPES)} are)")
        shape = common.const_ints(ins[1] if len(ins) > 1 else None, "shape", "BROADCAST_TO")
        if shape.ndim != 1 or not len(x.shape) <= shape.size <= MAX_RANK or (shape < 0).any():
            raise GraphError(f"BROADCAST_TO: shape {shape.tolist()} must be 1-D with "
                             f"{len(x.shape)} to {MAX_RANK} sizes >= 0")
        target = tuple(int(d) for d in shape)
        for d, t in zip(x.shape[::-1], target[::-1]):
            if d not in (1, t):
                raise GraphError(f"BROADCAST_TO: input {list(x.shape)} does not broadcast to "
                                 f"{list(target)}")
        return [(target, x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        return [np.broadcast_to(np.asarray(args[0]), node.outs[0].shape).copy()]

    @staticmethod
    def attrs_to_tflite(attrs):
        return schema.BroadcastToOptionsT()

    @staticmethod
    def lower_c(node: Node):
        x, out = node.ins[0], node.outs[0]
        shape = (1,) * (len(out.shape) - len(x.shape)) + tuple(x.shape)
        steps = [0 if d == 1 else s for d, s in zip(shape, cparams.strides(shape))]
        return repeat_call(node, x, steps)
