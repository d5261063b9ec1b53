"""RESIZE_NEAREST_NEIGHBOR: NHWC input to the constant int32 `size` (out_h, out_w), each output
pixel a copy of its nearest input pixel (align_corners / half_pixel_centers as TFLite).

The input index per output row and column is TFLite's GetNearestNeighbor in float32
(arith/resize.py). TFLM copies raw elements and reads no quantization (the converter keeps the
input's scale and zero point). RESIZE_BILINEAR (resize_bilinear.py) shares the shape rule.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..arith import resize
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

KIND = "RESIZE_NEAREST_NEIGHBOR"
DTYPES = ("float32", "int8", "int16")


def out_size(op, ins, kind: str, dtypes) -> tuple[object, int, int]:
    """(input, out_h, out_w) from the constant size operand; GraphError on what TFLM refuses."""
    x = common.need(ins[0] if ins else None, "input", kind)
    if len(x.shape) != 4:
        raise GraphError(f"{kind}: input {x.name!r} must be 4-D NHWC, is {list(x.shape)}")
    if x.dtype not in dtypes:
        raise GraphError(f"{kind}: {x.dtype} input {x.name!r} is not supported "
                         f"(TFLite Micro takes {', '.join(dtypes)})")
    size = common.const_ints(ins[1] if len(ins) > 1 else None, "size", kind)
    if size.shape != (2,) or (size <= 0).any():
        raise GraphError(f"{kind}: size must be 2 positive values (height, width), "
                         f"got {size.tolist()}")
    if op.attr("align_corners", False) and op.attr("half_pixel_centers", False):
        raise GraphError(f"{kind}: align_corners and half_pixel_centers are exclusive")
    return x, int(size[0]), int(size[1])


def flags(node: Node) -> tuple[bool, bool]:
    return bool(node.attr("align_corners", False)), bool(node.attr("half_pixel_centers", False))


def options(o) -> dict:
    return dict(align_corners=bool(common.options_get(o, "alignCorners", False)),
                half_pixel_centers=bool(common.options_get(o, "halfPixelCenters", False)))


def fill_options(o, attrs):
    o.alignCorners = bool(attrs.get("align_corners", False))
    o.halfPixelCenters = bool(attrs.get("half_pixel_centers", False))
    return o


def tables(node: Node):
    """Input row of each output row, input column of each output column."""
    x, out = node.ins[0], node.outs[0]
    return [resize.nearest_indices(x.shape[k], out.shape[k], *flags(node)) for k in (1, 2)]


@register
class ResizeNearestNeighbor(OpDef):
    kind = KIND
    tflite_options = "ResizeNearestNeighborOptions"

    @staticmethod
    def infer(op, ins):
        x, h, w = out_size(op, ins, KIND, DTYPES)
        return [((x.shape[0], h, w, x.shape[3]), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        rows, cols = tables(node)
        return [np.ascontiguousarray(np.asarray(args[0])[:, rows][:, :, cols])]

    @staticmethod
    def attrs_from_tflite(o):
        return options(o)

    @staticmethod
    def attrs_to_tflite(attrs):
        return fill_options(schema.ResizeNearestNeighborOptionsT(), attrs)

    @staticmethod
    def lower_c(node: Node):
        """fitml_resize_nearest: per output pixel, one memcpy of its source pixel's channels."""
        x, out = node.ins[0], node.outs[0]
        rows, cols = tables(node)
        params = dict(batches=x.shape[0], in_h=x.shape[1], in_w=x.shape[2], out_h=out.shape[1],
                      out_w=out.shape[2],
                      pixel_bytes=x.shape[3] * np.dtype(x.dtype).itemsize,
                      rows=cparams.i32(rows), cols=cparams.i32(cols))
        return CCall("fitml_resize_nearest", "fitml_resize_nearest_params", params,
                     cparams.io(node))
