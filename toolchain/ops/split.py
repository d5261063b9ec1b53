"""SPLIT: cut the input into `num_splits` equal parts along a constant axis (input 0).

Input order is TFLite's: (axis, input). The axis is a constant int32 scalar; negative values
count from the end. TFLM copies raw elements (float32, int8, int16, int32) and reads no
quantization, so the reference does the same. SPLIT_V (split_v.py) shares the helpers here.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall, OutRefs
from . import common
from .concatenation import positive_axis
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8", "int16", "int32")      # what TFLM's split kernels take


def const_axis(t, rank: int, op: str) -> int:
    """The constant scalar axis operand, in [0, rank)."""
    values = common.const_ints(t, "axis", op).reshape(-1)
    if values.size != 1:
        raise GraphError(f"{op}: axis {t.name!r} must hold one value, has {values.size}")
    return positive_axis(int(values[0]), rank, op)


def check_dtype(x, op: str) -> None:
    if x.dtype not in DTYPES:
        raise GraphError(f"{op}: {x.dtype} input {x.name!r} is not supported "
                         f"(TFLite Micro takes {', '.join(DTYPES)})")


def split_outputs(x, axis: int, sizes) -> list[tuple[tuple[int, ...], str]]:
    """(shape, dtype) of each part of `x` cut into `sizes` along `axis`."""
    return [(x.shape[:axis] + (int(n),) + x.shape[axis + 1:], x.dtype) for n in sizes]


def split_reference(x: np.ndarray, axis: int, sizes) -> list[np.ndarray]:
    cuts = np.cumsum([int(n) for n in sizes])[:-1]
    return [np.ascontiguousarray(p) for p in np.split(np.asarray(x), cuts, axis=axis)]


def split_call(node: Node, x, axis: int, sizes) -> CCall:
    """fitml_split: per outer index, each output's contiguous chunk of the input in turn."""
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64)) * np.dtype(x.dtype).itemsize
    params = dict(num_outputs=len(sizes),
                  outer=int(np.prod(x.shape[:axis], dtype=np.int64)),
                  chunk_bytes=cparams.i32([int(n) * inner for n in sizes]))
    return CCall("fitml_split", "fitml_split_params", params,
                 (cparams.ref(x), OutRefs(cparams.ref(t) for t in node.outs)))


def equal_sizes(op, x, axis: int) -> list[int]:
    count = int(op.attr("num_splits", 0))
    size = x.shape[axis]
    if count <= 0 or size % count:
        raise GraphError(f"SPLIT: num_splits {count} does not divide axis {axis} of size {size}")
    return [size // count] * count


@register
class Split(OpDef):
    kind = "SPLIT"
    tflite_options = "SplitOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[1] if len(ins) > 1 else None, "input", "SPLIT")
        check_dtype(x, "SPLIT")
        axis = const_axis(ins[0], len(x.shape), "SPLIT")
        return split_outputs(x, axis, equal_sizes(op, x, axis))

    @staticmethod
    def reference(node: Node, args):
        x = node.ins[1]
        axis = const_axis(node.ins[0], len(x.shape), "SPLIT")
        return split_reference(args[1], axis, equal_sizes(node.op, x, axis))

    @staticmethod
    def attrs_from_tflite(o):
        return dict(num_splits=int(common.options_get(o, "numSplits", 0)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.SplitOptionsT()
        o.numSplits = int(attrs.get("num_splits", 0))
        return o

    @staticmethod
    def lower_c(node: Node):
        x = node.ins[1]
        axis = const_axis(node.ins[0], len(x.shape), "SPLIT")
        return split_call(node, x, axis, equal_sizes(node.op, x, axis))
