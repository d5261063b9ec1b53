"""SLICE: x[begin : begin + size] per axis, from constant int32 / int64 begin and size inputs;
a size of -1 takes the rest of the axis (TFLM slice.cc). Lowered as STRIDED_SLICE is: a strided
byte walk copied to the output (`fitml_strided_slice`). Raw data movement: quant params are
neither read nor checked, as in TFLM.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .opdef import OpDef
from .registry import Node, register


def slice_ranges(shape: tuple[int, ...], ins) -> list[tuple[int, int]]:
    """(begin, size) per axis, -1 sizes resolved; GraphError when a range leaves the input."""
    rank = len(shape)
    begin, size = (common.const_ints(ins[i] if len(ins) > i else None, name, "SLICE")
                   .reshape(-1) for i, name in ((1, "begin"), (2, "size")))
    for name, v in (("begin", begin), ("size", size)):
        if v.shape != (rank,):
            raise GraphError(f"SLICE: {name} holds {v.size} values, expected {rank} for "
                             f"input rank {rank}")
    out = []
    for axis, dim in enumerate(shape):
        b, n = int(begin[axis]), int(size[axis])
        n = dim - b if n == -1 else n
        if b < 0 or n < 0 or b + n > dim:
            raise GraphError(f"SLICE: axis {axis} of size {dim} cannot take begin {b}, "
                             f"size {int(size[axis])} (need 0 <= begin, begin + size <= {dim}, "
                             "size >= 0 or -1)")
        out.append((b, n))
    return out


@register
class Slice(OpDef):
    kind = "SLICE"
    tflite_options = "SliceOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "SLICE")
        return [(tuple(n for _, n in slice_ranges(x.shape, ins)), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        index = tuple(slice(b, b + n) for b, n in slice_ranges(node.ins[0].shape, node.ins))
        return [np.asarray(args[0])[index].reshape(node.outs[0].shape)]

    @staticmethod
    def lower_c(node: Node):
        """STRIDED_SLICE's kernel over unit strides (an empty window: a zero-length walk)."""
        x = node.ins[0]
        ranges = slice_ranges(x.shape, node.ins)
        steps = cparams.strides(x.shape)
        dims = [n for _, n in ranges]
        walk = cparams.walk(dims, steps) if 0 not in dims else cparams.walk([0], [1])
        return CCall("fitml_strided_slice", "fitml_strided_slice_params",
                     dict(walk=walk, offset=sum(b * st for (b, _), st in zip(ranges, steps)),
                          elem_size=np.dtype(x.dtype).itemsize), cparams.io(node))
