"""STRIDED_SLICE: x[begin:end:strides] per axis, from constant int32 begin/end/strides inputs.

Index logic is TFLite's (strided_slice_logic.h): negative indices add the axis size, then
clamp to [0, size] (stride > 0) or [-1, size - 1] (stride < 0); begin_mask / end_mask bits
select the whole axis; `offset` makes end a size counted from begin (accepted only where it
stays in range: LiteRT sizes the output from the raw value; TFLM ignores the flag); a
shrink_axis_mask bit takes the single element at begin and drops the axis. ellipsis_mask and
new_axis_mask are rejected (the converter folds them away; TFLM does not implement them).
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..ir import GraphError
from . import common
from .opdef import OpDef
from .registry import Node, register

MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")
OPTION_FIELDS = ("beginMask", "endMask", "ellipsisMask", "newAxisMask", "shrinkAxisMask")


def axis_ranges(attrs, shape, ins) -> list[tuple[int, int, int, bool]]:
    """(start, stop, stride, shrink) per axis, as TFLM's StridedSlice{Start,End}ForAxis."""
    for mask in ("ellipsis_mask", "new_axis_mask"):
        if int(attrs.get(mask, 0)):
            raise GraphError(f"STRIDED_SLICE: {mask}={attrs.get(mask)} is not supported "
                             "(only begin, end and shrink_axis masks are)")
    rank = len(shape)
    names = ("begin", "end", "strides")
    begin, end, strides = (common.const_ints(ins[i + 1] if len(ins) > i + 1 else None,
                                             names[i], "STRIDED_SLICE") for i in range(3))
    for name, v in zip(names, (begin, end, strides)):
        if v.shape != (rank,):
            raise GraphError(f"STRIDED_SLICE: {name} has shape {list(v.shape)}, "
                             f"expected [{rank}] for input rank {rank}")
    bmask, emask, smask = (int(attrs.get(m, 0)) for m in ("begin_mask", "end_mask",
                                                          "shrink_axis_mask"))
    offset = bool(attrs.get("offset", False))
    out = []
    for axis, size in enumerate(shape):
        b, e, s = int(begin[axis]), int(end[axis]), int(strides[axis])
        shrink = bool(smask >> axis & 1)
        if s == 0:
            raise GraphError(f"STRIDED_SLICE: stride of axis {axis} is 0")
        lo, hi = (0, size) if s > 0 else (-1, size - 1)
        start = min(max(b + size if b < 0 else b, lo), hi)
        masked = bool(bmask >> axis & 1)
        if masked:
            start = 0 if s > 0 else size - 1
        if shrink:
            if s < 0 or not (masked or -size <= b < size):
                raise GraphError(f"STRIDED_SLICE: shrink axis {axis} needs -{size} <= begin < "
                                 f"{size} and a positive stride, got begin {b}, stride {s}")
            out.append((start, start + 1, 1, True))
            continue
        if offset:  # LiteRT sizes the output from raw `e` but slices to clamped start + e
            if s < 0 or emask >> axis & 1 or not 0 <= e <= size - start:
                raise GraphError(f"STRIDED_SLICE: with offset, axis {axis} needs a positive "
                                 f"stride, no end_mask and 0 <= end <= {size - start}")
            e += start
        stop = min(max(e + size if e < 0 else e, lo), hi)
        if emask >> axis & 1:
            stop = size if s > 0 else -1
        out.append((start, stop, s, False))
    return out


def extent(start: int, stop: int, stride: int) -> int:
    return max(0, -((start - stop) // stride))


@register
class StridedSlice(OpDef):
    kind = "STRIDED_SLICE"
    tflite_options = "StridedSliceOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0], "input", "STRIDED_SLICE")
        ranges = axis_ranges(op.attrs, x.shape, ins)
        shape = tuple(extent(a, b, s) for a, b, s, shrink in ranges if not shrink)
        return [(shape, x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        ranges = axis_ranges(node.op.attrs, node.ins[0].shape, node.ins)
        index = np.ix_(*[np.arange(a, b, s) for a, b, s, _ in ranges])
        return [np.asarray(args[0])[index].reshape(node.outs[0].shape)]

    @staticmethod
    def attrs_from_tflite(o):
        attrs = {m: int(common.options_get(o, f, 0)) for m, f in zip(MASKS, OPTION_FIELDS)}
        attrs["offset"] = bool(common.options_get(o, "offset", False))
        return attrs

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.StridedSliceOptionsT()
        for m, f in zip(MASKS, OPTION_FIELDS):
            setattr(o, f, int(attrs.get(m, 0)))
        o.offset = bool(attrs.get("offset", False))
        return o

    @staticmethod
    def lower_c(node: Node):
        x = node.ins[0]
        ranges = axis_ranges(node.op.attrs, x.shape, node.ins)
        dims = [extent(a, b, s) for a, b, s, _ in ranges]
        if 0 in dims:
            return cparams.gather(node, [0], [1], 0)
        steps = cparams.strides(x.shape)
        offset = sum(a * st for (a, _, _, _), st in zip(ranges, steps))
        return cparams.gather(node, dims, [s * st for (_, _, s, _), st in zip(ranges, steps)],
                              offset)
