"""PAD: constant padding with int32 paddings [rank, 2] (before, after) held as a constant input.

The fill is the output zero point for int8 (TFLM pads with zp_out, i.e. real 0.0) and 0 for
float32, int16 and int32. Input bytes are copied raw, never requantized.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from . import common
from .opdef import OpDef
from .registry import Node, register


def paddings_of(x, paddings_t, op: str) -> np.ndarray:
    """The checked [rank, 2] paddings of input `x` from the constant operand."""
    pads = common.const_ints(paddings_t, "paddings", op)
    if pads.shape != (len(x.shape), 2):
        raise GraphError(f"{op}: paddings shape {list(pads.shape)} != [{len(x.shape)}, 2] "
                         f"for input rank {len(x.shape)}")
    if (pads < 0).any():
        raise GraphError(f"{op}: negative paddings {pads.tolist()}")
    return pads


def infer_pad(op: str, ins) -> list:
    x = common.need(ins[0], "input", op)
    pads = paddings_of(x, ins[1] if len(ins) > 1 else None, op)
    shape = tuple(int(d + a + b) for d, (a, b) in zip(x.shape, pads))
    return [(shape, x.dtype)]


def pad_array(x: np.ndarray, pads: np.ndarray, fill, dtype) -> np.ndarray:
    """`x` placed inside an array of `fill` at offsets pads[:, 0]."""
    shape = tuple(int(d + a + b) for d, (a, b) in zip(x.shape, pads))
    out = np.full(shape, fill, dtype=dtype)
    out[tuple(slice(int(a), int(a) + d) for d, (a, _) in zip(x.shape, pads))] = x
    return out


def default_fill(node: Node):
    """zp_out for int8 (TFLM), zero otherwise."""
    out = node.outs[0]
    return common.qparams(out)[1] if out.dtype == "int8" else 0


def lower_pad(node: Node, fill) -> CCall:
    """fitml_pad: byte-generic; unpadded innermost dims merge into longer contiguous rows."""
    x, out = node.ins[0], node.outs[0]
    pads = common.const_ints(node.ins[1], "paddings", node.op.kind).tolist()
    in_dims, out_dims = list(x.shape), list(out.shape)
    before = [int(a) for a, _ in pads]
    while len(in_dims) > 1 and in_dims[-1] == out_dims[-1]:
        inner = in_dims.pop()
        out_dims.pop()
        before.pop()
        in_dims[-1], out_dims[-1], before[-1] = (in_dims[-1] * inner, out_dims[-1] * inner,
                                                 before[-1] * inner)
    if not in_dims:
        in_dims, out_dims, before = [1], [1], [0]
    if len(in_dims) > cparams.MAX_DIMS:
        raise cparams.unsupported(node, f"rank {len(in_dims)} > {cparams.MAX_DIMS}")
    zeros = [0] * (cparams.MAX_DIMS - len(in_dims))
    fill_bytes = list(np.asarray(fill, x.dtype).tobytes())
    return CCall("fitml_pad", "fitml_pad_params",
                 dict(rank=len(in_dims), in_dims=in_dims + zeros, out_dims=out_dims + zeros,
                      pad_before=before + zeros, elem_size=np.dtype(x.dtype).itemsize,
                      pad_value=fill_bytes + [0] * (8 - len(fill_bytes))), cparams.io(node))


def check_pad(op: str, ins, outs) -> None:
    out = outs[0]
    if out.dtype == "int8" and not -128 <= common.qparams(out)[1] <= 127:
        raise GraphError(f"{op}: int8 output zero point {out.quant.zp} outside [-128, 127]")


@register
class Pad(OpDef):
    kind = "PAD"
    tflite_options = "PadOptions"

    @staticmethod
    def infer(op, ins):
        return infer_pad("PAD", ins)

    @staticmethod
    def check(op, ins, outs):
        check_pad("PAD", ins, outs)

    @staticmethod
    def reference(node: Node, args):
        pads = common.const_ints(node.ins[1], "paddings", "PAD")
        x = np.asarray(args[0])
        return [pad_array(x, pads, default_fill(node), x.dtype)]

    @staticmethod
    def attrs_to_tflite(attrs):
        return schema.PadOptionsT()

    @staticmethod
    def lower_c(node: Node):
        return lower_pad(node, default_fill(node))
