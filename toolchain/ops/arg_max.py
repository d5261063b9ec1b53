"""ARG_MAX: the index of the largest value along a constant axis (the axis is dropped), the
first one on ties, as TFLM's ArgMinMax with a strict greater-than (float32 and int8 inputs on
their raw values, int32 output, int32 axis: what TFLM takes). ARG_MIN (arg_min.py) is the same
op with a strict less-than.
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
    axis = const_axis(node.ins[1], len(x.shape), node.op.kind)
    prod = lambda dims: int(np.prod(dims, dtype=np.int64))  # noqa: E731
    return prod(x.shape[:axis]), x.shape[axis], prod(x.shape[axis + 1:])


def first_best(values: np.ndarray, axis_size: int, better=np.greater) -> np.ndarray:
    """Index of the first value along axis 1 of [outer, axis, inner] that no later one beats
    (`better(new, best)` strictly: greater for ARG_MAX, less for ARG_MIN)."""
    best, index = values[:, 0].copy(), np.zeros((values.shape[0], values.shape[2]), np.int32)
    for i in range(1, axis_size):
        better_here = better(values[:, i], best)
        best = np.where(better_here, values[:, i], best)
        index = np.where(better_here, np.int32(i), index)
    return index


class ArgBase(OpDef):
    """ARG_MAX and ARG_MIN: `better` picks the comparison, `options` the TFLite table."""
    better = staticmethod(np.greater)
    options = schema.ArgMaxOptionsT

    @classmethod
    def infer(cls, op, ins):
        kind = cls.kind
        x = common.need(ins[0] if ins else None, "input", kind)
        if x.dtype not in DTYPES:
            raise GraphError(f"{kind}: {x.dtype} input {x.name!r} is not supported "
                             f"(TFLite Micro takes {', '.join(DTYPES)})")
        axis_t = ins[1] if len(ins) > 1 else None
        if axis_t is not None and axis_t.dtype != "int32":
            raise GraphError(f"{kind}: {axis_t.dtype} axis is not supported (TFLM takes int32)")
        axis = const_axis(axis_t, len(x.shape), kind)
        out = op.attr("output_type", "int32")
        if out != "int32":
            raise GraphError(f"{kind}: {out} output is not supported (TFLite Micro writes "
                             "int32; convert with output_type=tf.int32)")
        return [(x.shape[:axis] + x.shape[axis + 1:], "int32")]

    @classmethod
    def reference(cls, node: Node, args):
        outer, size, inner = reduced(node)
        values = np.asarray(args[0]).reshape(outer, size, inner)
        return [first_best(values, size, cls.better).reshape(node.outs[0].shape)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(output_type=OUTPUT_TYPES.get(int(common.options_get(o, "outputType", 2)),
                                                 "unknown"))

    @classmethod
    def attrs_to_tflite(cls, attrs):
        o = cls.options()
        o.outputType = getattr(schema.TensorType, attrs.get("output_type", "int32").upper())
        return o

    @classmethod
    def lower_c(cls, node: Node):
        outer, size, inner = reduced(node)
        suffix = "f32" if node.ins[0].dtype == "float32" else "s8"
        return CCall(f"fitml_{cls.kind.lower()}_{suffix}", "fitml_arg_max_params",
                     dict(outer=outer, axis_size=size, inner=inner), cparams.io(node))


@register
class ArgMax(ArgBase):
    kind = "ARG_MAX"
    tflite_options = "ArgMaxOptions"
