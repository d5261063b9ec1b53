"""ARG_MAX: the index of the largest value along a constant axis (the axis is dropped), the
first one on ties, as TFLM's ArgMinMax with a strict greater-than (float32 and int8 inputs on
their raw values, int32 output, int32 axis: what TFLM takes).
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register
from .split import const_axis

DTYPES = ("float32", "int8")
OUTPUT_TYPES = {v: k.lower() for k, v in vars(schema.TensorType).items()
                if not k.startswith("_")}


def reduced(node: Node) -> tuple[int, int, int]:
    """(outer, axis size, inner) element counts."""
    x = node.ins[0]
    axis = const_axis(node.ins[1], len(x.shape), "ARG_MAX")
    prod = lambda dims: int(np.prod(dims, dtype=np.int64))  # noqa: E731
    return prod(x.shape[:axis]), x.shape[axis], prod(x.shape[axis + 1:])


def first_max(values: np.ndarray, axis_size: int) -> np.ndarray:
    """Index of the first strictly greatest value along axis 1 of [outer, axis, inner]."""
    best, index = values[:, 0].copy(), np.zeros((values.shape[0], values.shape[2]), np.int32)
    for i in range(1, axis_size):
        better = values[:, i] > best
        best = np.where(better, values[:, i], best)
        index = np.where(better, np.int32(i), index)
    return index


@register
class ArgMax(OpDef):
    kind = "ARG_MAX"
    tflite_options = "ArgMaxOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "ARG_MAX")
        if x.dtype not in DTYPES:
            raise GraphError(f"ARG_MAX: {x.dtype} input {x.name!r} is not supported "
                             f"(TFLite Micro takes {', '.join(DTYPES)})")
        axis_t = ins[1] if len(ins) > 1 else None
        if axis_t is not None and axis_t.dtype != "int32":
            raise GraphError(f"ARG_MAX: {axis_t.dtype} axis is not supported (TFLM takes int32)")
        axis = const_axis(axis_t, len(x.shape), "ARG_MAX")
        out = op.attr("output_type", "int32")
        if out != "int32":
            raise GraphError(f"ARG_MAX: {out} output is not supported (TFLite Micro writes "
                             "int32; convert with output_type=tf.int32)")
        return [(x.shape[:axis] + x.shape[axis + 1:], "int32")]

    @staticmethod
    def reference(node: Node, args):
        outer, size, inner = reduced(node)
        values = np.asarray(args[0]).reshape(outer, size, inner)
        return [first_max(values, size).reshape(node.outs[0].shape)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(output_type=OUTPUT_TYPES.get(int(common.options_get(o, "outputType", 2)),
                                                 "unknown"))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.ArgMaxOptionsT()
        o.outputType = getattr(schema.TensorType, attrs.get("output_type", "int32").upper())
        return o

    @staticmethod
    def lower_c(node: Node):
        outer, size, inner = reduced(node)
        suffix = "f32" if node.ins[0].dtype == "float32" else "s8"
        return CCall(f"fitml_arg_max_{suffix}", "fitml_arg_max_params",
                     dict(outer=outer, axis_size=size, inner=inner), cparams.io(node))
