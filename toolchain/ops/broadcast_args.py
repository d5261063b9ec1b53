"""BROADCAST_ARGS: the broadcast of two shapes (1-D int32 or int64 tensors), as TFLM
broadcast_args.cc. fitml's shapes are static, so its inputs are constants (or SHAPEs, which
fold first): the constant folding pass replaces it by its value and it has no C kernel.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from . import broadcast, common
from .registry import Node, OpDef, register

DTYPES = ("int32", "int64")


def broadcast_value(a, b) -> list[int]:
    """The broadcast of shape values `a` and `b`; GraphError when they do not broadcast."""
    return list(broadcast.broadcast_shape(np.asarray(a).tolist(), np.asarray(b).tolist(),
                                          "BROADCAST_ARGS", max_rank=64))


@register
class BroadcastArgs(OpDef):
    kind = "BROADCAST_ARGS"

    @staticmethod
    def infer(op, ins):
        shapes = [common.need(ins[i] if len(ins) > i else None, f"shape {i}", "BROADCAST_ARGS")
                  for i in (0, 1)]
        for t in shapes:
            if len(t.shape) != 1 or t.dtype not in DTYPES:
                raise GraphError(f"BROADCAST_ARGS: shape {t.name!r} must be a 1-D int32 or "
                                 f"int64 tensor, is {t.dtype} {list(t.shape)}")
        if shapes[0].dtype != shapes[1].dtype:
            raise GraphError(f"BROADCAST_ARGS: shapes are {shapes[0].dtype} and "
                             f"{shapes[1].dtype}, must match")
        if all(t.is_const for t in shapes):
            broadcast_value(shapes[0].data, shapes[1].data)       # refuse what does not broadcast
        return [((max(t.shape[0] for t in shapes),), shapes[0].dtype)]

    @staticmethod
    def reference(node: Node, args):
        return [np.asarray(broadcast_value(args[0], args[1]), node.outs[0].dtype)]

    @staticmethod
    def lower_c(node: Node):
        raise cparams.unsupported(node, "computed only by constant folding, of constant "
                                        "shapes")
