"""SPACE_TO_BATCH_ND: NHWC (or NHC) zero-padded, then each block_shape offset's pixels moved
to a batch of their own (TF's converter emits it around dilated convolutions); float32, int8.

TFLM's reference (space_to_batch_nd.h): output batch (i * block_w + j) * N + b holds padded
pixels (h * block_h + i, w * block_w + j) of image b. Padded elements are the real zero (the
zero point for int8), as TF defines the op and LiteRT computes it: TFLM memsets them with
SpaceToBatchParams.output_offset, which its kernel never sets, so TFLM's padding is whatever
byte that stack slot held (0x00 and 0x09 seen in two runs). A 3-D input is NHC seen as W = 1.
Block shape and paddings are int32 constants (TFLM reads int32). BATCH_TO_SPACE_ND
(batch_to_space_nd.py) is the inverse.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8")


def block_geometry(kind: str, ins, what: str):
    """(input, [block_h, block_w], [[top, bottom], [left, right]]) with a 3-D input seen as
    NH1C; `what` names the third operand (paddings or crops)."""
    x = common.need(ins[0] if ins else None, "input", kind)
    if len(x.shape) not in (3, 4):
        raise GraphError(f"{kind}: input {x.name!r} must be 3-D or 4-D, is {list(x.shape)}")
    if x.dtype not in DTYPES:
        raise GraphError(f"{kind}: {x.dtype} input {x.name!r} is not supported "
                         f"(TFLite Micro takes {', '.join(DTYPES)})")
    spatial = len(x.shape) - 2
    block = common.const_ints(ins[1] if len(ins) > 1 else None, "block_shape", kind)
    pads = common.const_ints(ins[2] if len(ins) > 2 else None, what, kind)
    if ins[1].dtype != "int32" or ins[2].dtype != "int32":
        raise GraphError(f"{kind}: block_shape and {what} must be int32 (TFLite Micro reads "
                         f"int32), are {ins[1].dtype} and {ins[2].dtype}")
    if block.shape != (spatial,) or pads.shape != (spatial, 2):
        raise GraphError(f"{kind}: block_shape {list(block.shape)} / {what} "
                         f"{list(pads.shape)} must be [{spatial}] / [{spatial}, 2]")
    if (block < 1).any() or (pads < 0).any():
        raise GraphError(f"{kind}: block_shape {block.tolist()} must be >= 1 and {what} "
                         f"{pads.tolist()} >= 0")
    block, pads = block.tolist(), pads.tolist()
    if spatial == 1:
        block, pads = block + [1], pads + [[0, 0]]
    return x, block, pads


def nhwc(shape) -> tuple[int, int, int, int]:
    """A 3-D NHC shape as NH1C."""
    return tuple(shape) if len(shape) == 4 else (shape[0], shape[1], 1, shape[2])


def pad_code(x) -> int:
    """The stored value of a real zero: the zero point of an int8 tensor, else 0."""
    return int(x.quant.zp) if x.dtype == "int8" and x.quant is not None else 0


def space_batch_call(node: Node, kernel: str, ins, outs, block, edges) -> CCall:
    """The fitml_space_batch_params call (edges: paddings or crops, [[top, _], [left, _]])."""
    n, h, w, c = nhwc(ins)
    on, oh, ow, _ = nhwc(outs)
    return CCall(kernel, "fitml_space_batch_params",
                 dict(in_batch=n, in_height=h, in_width=w, out_batch=on, out_height=oh,
                      out_width=ow, block_height=block[0], block_width=block[1],
                      pad_top=edges[0][0], pad_left=edges[1][0],
                      pad_byte=pad_code(node.ins[0]) & 0xFF,
                      depth_bytes=c * np.dtype(node.ins[0].dtype).itemsize),
                 cparams.io(node))


@register
class SpaceToBatchND(OpDef):
    kind = "SPACE_TO_BATCH_ND"
    tflite_options = "SpaceToBatchNDOptions"

    @staticmethod
    def infer(op, ins):
        x, (bh, bw), ((top, bottom), (left, right)) = block_geometry(
            "SPACE_TO_BATCH_ND", ins, "paddings")
        n, h, w, c = nhwc(x.shape)
        if (h + top + bottom) % bh or (w + left + right) % bw:
            raise GraphError(f"SPACE_TO_BATCH_ND: padded {h + top + bottom}x"
                             f"{w + left + right} is not a multiple of block_shape {[bh, bw]}")
        out = (n * bh * bw, (h + top + bottom) // bh, (w + left + right) // bw, c)
        return [(out if len(x.shape) == 4 else (out[0], out[1], c), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        _, (bh, bw), pads = block_geometry("SPACE_TO_BATCH_ND", node.ins, "paddings")
        x = np.asarray(args[0]).reshape(nhwc(node.ins[0].shape))
        padded = np.pad(x, [(0, 0), tuple(pads[0]), tuple(pads[1]), (0, 0)],
                        constant_values=pad_code(node.ins[0]))                  # real zero
        n, hp, wp, c = padded.shape
        view = padded.reshape(n, hp // bh, bh, wp // bw, bw, c).transpose(2, 4, 0, 1, 3, 5)
        return [np.ascontiguousarray(view).reshape(node.outs[0].shape)]

    @staticmethod
    def lower_c(node: Node):
        _, block, pads = block_geometry("SPACE_TO_BATCH_ND", node.ins, "paddings")
        return space_batch_call(node, "fitml_space_to_batch_nd", node.ins[0].shape,
                                node.outs[0].shape, block, pads)
