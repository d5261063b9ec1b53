"""RESIZE_BILINEAR: NHWC input to the constant int32 `size`, each output pixel the weighted
mean of its four neighbours (align_corners / half_pixel_centers as TFLite).

float32 follows TFLite's ResizeBilinear term by term in float32; int8 its integer form
ResizeBilinearInteger: 10-bit fixed-point coordinates, products summed in 2^-20 units, then
(sum +- 2^19) / 2^20 toward zero (TFLM's default double rounding). The scales are never read:
the converter gives the output the input's. Coordinates come from arith/resize.py.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..arith import resize
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CArray, CCall
from .registry import Node, OpDef, register
from .resize_nearest_neighbor import fill_options, flags, options, out_size

KIND = "RESIZE_BILINEAR"
DTYPES = ("float32", "int8")
F32 = np.float32


def tables(node: Node):
    """((y0, y1, dy), (x0, x1, dx)): float fractions for float32, 1/1024 ones for int8."""
    x, out = node.ins[0], node.outs[0]
    coords = resize.bilinear_float if x.dtype == "float32" else resize.bilinear_int
    per_axis = [coords(x.shape[k], out.shape[k], *flags(node)) for k in (1, 2)]
    for k, (lo, _, _) in zip((1, 2), per_axis):
        if lo.max() > x.shape[k] - 1:       # TFLM would read past the input
            raise GraphError(f"{KIND}: resizing {x.shape[k]} to {out.shape[k]} puts a source "
                             "index past the input in TFLite's fixed point; not supported")
    return per_axis


def blend(x: np.ndarray, ys, xs) -> np.ndarray:
    """The four corner terms of every output pixel, in TFLite's order and types."""
    (y0, y1, dy), (x0, x1, dx) = ys, xs
    def at(r, c):
        return x[:, r][:, :, c]
    if x.dtype == np.float32:
        wy, wx = dy.reshape(1, -1, 1, 1), dx.reshape(1, 1, -1, 1)
        one = F32(1)
        total = (at(y0, x0) * (one - wy) * (one - wx) + at(y1, x0) * wy * (one - wx)
                 + at(y0, x1) * (one - wy) * wx + at(y1, x1) * wy * wx + F32(0))
        return total.astype(F32)
    wy, wx = dy.reshape(1, -1, 1, 1), dx.reshape(1, 1, -1, 1)
    one = resize.ONE_10
    v = [at(r, c).astype(np.int64) for r, c in ((y0, x0), (y1, x0), (y0, x1), (y1, x1))]
    acc = (v[0] * (one - wy) * (one - wx) + v[1] * wy * (one - wx)
           + v[2] * (one - wy) * wx + v[3] * wy * wx)
    return resize.bilinear_int_combine(acc).astype(x.dtype)


@register
class ResizeBilinear(OpDef):
    kind = KIND
    tflite_options = "ResizeBilinearOptions"

    @staticmethod
    def infer(op, ins):
        x, h, w = out_size(op, ins, KIND, DTYPES)
        return [((x.shape[0], h, w, x.shape[3]), x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        tables(Node(op, tuple(ins), tuple(outs)))   # refuses what would read past the input

    @staticmethod
    def reference(node: Node, args):
        ys, xs = tables(node)
        return [blend(np.asarray(args[0]), ys, xs)]

    @staticmethod
    def attrs_from_tflite(o):
        return options(o)

    @staticmethod
    def attrs_to_tflite(attrs):
        return fill_options(schema.ResizeBilinearOptionsT(), attrs)

    @staticmethod
    def lower_c(node: Node):
        """fitml_resize_bilinear_{s8,f32}: the coordinate tables, the kernel weighs."""
        x, out = node.ins[0], node.outs[0]
        (y0, y1, dy), (x0, x1, dx) = tables(node)
        is_float = x.dtype == "float32"
        frac = (lambda a: CArray(a, "float")) if is_float else cparams.i32
        geom = dict(batches=x.shape[0], in_h=x.shape[1], in_w=x.shape[2], depth=x.shape[3],
                    out_h=out.shape[1], out_w=out.shape[2], y0=cparams.i32(y0),
                    y1=cparams.i32(y1), x0=cparams.i32(x0), x1=cparams.i32(x1))
        suffix = "f32" if is_float else "s8"
        return CCall(f"fitml_resize_bilinear_{suffix}", f"fitml_resize_bilinear_{suffix}_params",
                     dict(geom=geom, dy=frac(dy), dx=frac(dx)), cparams.io(node))
