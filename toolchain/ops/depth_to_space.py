"""DEPTH_TO_SPACE: NHWC, each pixel's channels become a block_size x block_size patch (DCR
order, as TFLite): out[b, h*bs + i, w*bs + j, c] = in[b, h, w, (i*bs + j)*C_out + c].

A raw permutation (float32, int8 in TFLM; quantization is not read). The C lowering is a
TRANSPOSE walk of the input seen as [N, H, W, bs, bs, C_out]. SPACE_TO_DEPTH is the inverse
(space_to_depth.py) and shares the helpers here.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8")


def block_input(op, ins, kind: str) -> tuple[object, int]:
    """(input, block_size) after TFLM's checks of the input and block size."""
    x = common.need(ins[0] if ins else None, "input", kind)
    if len(x.shape) != 4:
        raise GraphError(f"{kind}: input {x.name!r} must be 4-D NHWC, is {list(x.shape)}")
    if x.dtype not in DTYPES:
        raise GraphError(f"{kind}: {x.dtype} input {x.name!r} is not supported "
                         f"(TFLite Micro takes {', '.join(DTYPES)})")
    bs = int(op.attr("block_size", 0))
    if bs < 1:
        raise GraphError(f"{kind}: block_size {bs} must be >= 1")
    return x, bs


def permute_call(node: Node, view, perm) -> CCall:
    """fitml_transpose of the input seen as `view` (row-major), dims taken in `perm` order."""
    steps = cparams.strides(view)
    walk = cparams.walk([view[p] for p in perm], [steps[p] for p in perm])
    return CCall("fitml_transpose", "fitml_transpose_params",
                 dict(walk=walk, offset=0, elem_size=np.dtype(node.ins[0].dtype).itemsize),
                 cparams.io(node))


def block_options(o) -> dict:
    return dict(block_size=int(common.options_get(o, "blockSize", 0)))


D2S_PERM = (0, 1, 3, 2, 4, 5)        # [N, H, W, bs, bs, C] -> [N, H, bs, W, bs, C]


@register
class DepthToSpace(OpDef):
    kind = "DEPTH_TO_SPACE"
    tflite_options = "DepthToSpaceOptions"

    @staticmethod
    def infer(op, ins):
        x, bs = block_input(op, ins, "DEPTH_TO_SPACE")
        n, h, w, c = x.shape
        if c % (bs * bs):
            raise GraphError(f"DEPTH_TO_SPACE: {c} channels are not a multiple of block_size^2 "
                             f"= {bs * bs}")
        return [((n, h * bs, w * bs, c // (bs * bs)), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        n, h, w, c = node.ins[0].shape
        bs = int(node.attr("block_size"))
        view = np.asarray(args[0]).reshape(n, h, w, bs, bs, c // (bs * bs))
        return [np.ascontiguousarray(view.transpose(D2S_PERM)).reshape(node.outs[0].shape)]

    @staticmethod
    def attrs_from_tflite(o):
        return block_options(o)

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.DepthToSpaceOptionsT()
        o.blockSize = int(attrs.get("block_size", 0))
        return o

    @staticmethod
    def lower_c(node: Node):
        n, h, w, c = node.ins[0].shape
        bs = int(node.attr("block_size"))
        return permute_call(node, (n, h, w, bs, bs, c // (bs * bs)), D2S_PERM)
