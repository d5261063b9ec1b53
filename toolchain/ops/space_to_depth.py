"""SPACE_TO_DEPTH: NHWC, each block_size x block_size patch becomes one pixel's channels
(TFLite's order): out[b, h, w, (i*bs + j)*C + c] = in[b, h*bs + i, w*bs + j, c].

The inverse of DEPTH_TO_SPACE (depth_to_space.py): a raw permutation (float32, int8), lowered
as a TRANSPOSE walk of the input seen as [N, H/bs, bs, W/bs, bs, C].
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from .depth_to_space import block_input, block_options, permute_call
from .registry import Node, OpDef, register

S2D_PERM = (0, 1, 3, 2, 4, 5)        # [N, H/bs, bs, W/bs, bs, C] -> [N, H/bs, W/bs, bs, bs, C]


def view_of(x, bs: int) -> tuple[int, ...]:
    n, h, w, c = x.shape
    return (n, h // bs, bs, w // bs, bs, c)


@register
class SpaceToDepth(OpDef):
    kind = "SPACE_TO_DEPTH"
    tflite_options = "SpaceToDepthOptions"

    @staticmethod
    def infer(op, ins):
        x, bs = block_input(op, ins, "SPACE_TO_DEPTH")
        n, h, w, c = x.shape
        if h % bs or w % bs:
            raise GraphError(f"SPACE_TO_DEPTH: {h}x{w} is not a multiple of block_size {bs}")
        return [((n, h // bs, w // bs, c * bs * bs), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        bs = int(node.attr("block_size"))
        view = np.asarray(args[0]).reshape(view_of(node.ins[0], bs))
        return [np.ascontiguousarray(view.transpose(S2D_PERM)).reshape(node.outs[0].shape)]

    @staticmethod
    def attrs_from_tflite(o):
        return block_options(o)

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.SpaceToDepthOptionsT()
        o.blockSize = int(attrs.get("block_size", 0))
        return o

    @staticmethod
    def lower_c(node: Node):
        bs = int(node.attr("block_size"))
        return permute_call(node, view_of(node.ins[0], bs), S2D_PERM)
