"""BATCH_TO_SPACE_ND: the inverse of SPACE_TO_BATCH_ND (space_to_batch_nd.py); float32, int8.

TFLM's reference (batch_to_space_nd.h): input batch (i * block_w + j) * N + b, pixel (h, w)
goes to output pixel (h * block_h + i - crop_top, w * block_w + j - crop_left) of image b,
when inside the output. A 3-D input is NHC seen as W = 1; block shape and crops are constants.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from .registry import Node, OpDef, register
from .space_to_batch_nd import DTYPES, block_geometry, nhwc, space_batch_call  # noqa: F401


@register
class BatchToSpaceND(OpDef):
    kind = "BATCH_TO_SPACE_ND"
    tflite_options = "BatchToSpaceNDOptions"

    @staticmethod
    def infer(op, ins):
        x, (bh, bw), ((top, bottom), (left, right)) = block_geometry(
            "BATCH_TO_SPACE_ND", ins, "crops")
        n, h, w, c = nhwc(x.shape)
        if n % (bh * bw):
            raise GraphError(f"BATCH_TO_SPACE_ND: batch {n} is not a multiple of the block "
                             f"size {bh * bw}")
        oh, ow = h * bh - top - bottom, w * bw - left - right
        if oh < 0 or ow < 0:
            raise GraphError(f"BATCH_TO_SPACE_ND: crops {[[top, bottom], [left, right]]} "
                             f"exceed the {h * bh}x{w * bw} output")
        out = (n // (bh * bw), oh, ow, c)
        return [(out if len(x.shape) == 4 else (out[0], oh, c), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        _, (bh, bw), ((top, _), (left, _)) = block_geometry(
            "BATCH_TO_SPACE_ND", node.ins, "crops")
        n, h, w, c = nhwc(node.ins[0].shape)
        on, oh, ow, _ = nhwc(node.outs[0].shape)
        view = np.asarray(args[0]).reshape(bh, bw, on, h, w, c).transpose(2, 3, 0, 4, 1, 5)
        full = view.reshape(on, h * bh, w * bw, c)
        return [np.ascontiguousarray(full[:, top:top + oh, left:left + ow])
                .reshape(node.outs[0].shape)]

    @staticmethod
    def lower_c(node: Node):
        _, block, crops = block_geometry("BATCH_TO_SPACE_ND", node.ins, "crops")
        return space_batch_call(node, "fitml_batch_to_space_nd", node.ins[0].shape,
                                node.outs[0].shape, block, crops)
