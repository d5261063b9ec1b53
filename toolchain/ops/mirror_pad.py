"""MIRROR_PAD: padding that mirrors the input at each edge (float32, int8, as TFLM mirror_pad.cc).

REFLECT leaves the edge element out of the mirror ([a b c] padded by 2: c b | a b c | b a),
SYMMETRIC repeats it (b a | a b c | c b). TFLM maps each output index per dimension with its
GetInputDimension (offset 1 for REFLECT, 0 for SYMMETRIC); paddings must stay within
size - offset per side, as TensorFlow requires (TFLM would read outside the input otherwise).
Raw elements are copied, quantization is not read.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .pad import paddings_of
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8")
MODES = {v: k for k, v in vars(schema.MirrorPadMode).items() if not k.startswith("_")}


def mode_offset(node_or_op) -> int:
    """TFLM's offset: 1 for REFLECT (edge not repeated), 0 for SYMMETRIC."""
    return 1 if node_or_op.attr("mode", "REFLECT") == "REFLECT" else 0


def source_index(i: np.ndarray, before: int, size: int, offset: int) -> np.ndarray:
    """TFLM's GetInputDimension for output indexes `i` along one dimension."""
    left = before + offset - 1 - np.minimum(i, before - 1)
    inside = i - before
    past = inside - size
    last = size - (1 + offset)
    right = last - np.minimum(past, last)
    return np.where(i < before, left, np.where(inside >= size, right, inside))


def mirror_pad(x: np.ndarray, pads: np.ndarray, offset: int) -> np.ndarray:
    maps = [source_index(np.arange(d + a + b), int(a), d, offset)
            for d, (a, b) in zip(x.shape, pads)]
    return x[np.ix_(*maps)] if maps else x.copy()


@register
class MirrorPad(OpDef):
    kind = "MIRROR_PAD"
    tflite_options = "MirrorPadOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "MIRROR_PAD")
        if x.dtype not in DTYPES:
            raise GraphError(f"MIRROR_PAD: {x.dtype} input {x.name!r} is not supported "
                             f"(TFLite Micro takes {', '.join(DTYPES)})")
        mode = op.attr("mode", "REFLECT")
        if mode not in ("REFLECT", "SYMMETRIC"):
            raise GraphError(f"MIRROR_PAD: mode {mode} is not supported (REFLECT, SYMMETRIC)")
        pads = paddings_of(x, ins[1] if len(ins) > 1 else None, "MIRROR_PAD")
        limit = [d - mode_offset(op) for d in x.shape]
        if any(p > m for (a, b), m in zip(pads.tolist(), limit) for p in (a, b)):
            raise GraphError(f"MIRROR_PAD: {mode} paddings {pads.tolist()} exceed the input "
                             f"{list(x.shape)} (at most {limit} per side)")
        return [(tuple(int(d + a + b) for d, (a, b) in zip(x.shape, pads)), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        pads = common.const_ints(node.ins[1], "paddings", "MIRROR_PAD")
        return [mirror_pad(np.asarray(args[0]), pads, mode_offset(node))]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(mode=MODES.get(int(common.options_get(o, "mode", 0)), "UNKNOWN"))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.MirrorPadOptionsT()
        o.mode = getattr(schema.MirrorPadMode, attrs.get("mode", "REFLECT"))
        return o

    @staticmethod
    def lower_c(node: Node):
        """fitml_mirror_pad: trailing unpadded dims become one element of many bytes."""
        x = node.ins[0]
        pads = common.const_ints(node.ins[1], "paddings", "MIRROR_PAD").tolist()
        dims, before = list(x.shape), [int(a) for a, _ in pads]
        after = [int(b) for _, b in pads]
        elem = np.dtype(x.dtype).itemsize
        while len(dims) > 1 and before[-1] == after[-1] == 0:
            elem *= dims.pop()
            before.pop()
            after.pop()
        if len(dims) > cparams.MAX_DIMS:
            raise cparams.unsupported(node, f"rank {len(dims)} > {cparams.MAX_DIMS}")
        zeros = [0] * (cparams.MAX_DIMS - len(dims))
        return CCall("fitml_mirror_pad", "fitml_mirror_pad_params",
                     dict(rank=len(dims), in_dims=dims + zeros, pad_before=before + zeros,
                          pad_after=after + zeros, offset=mode_offset(node), elem_size=elem),
                     cparams.io(node))
