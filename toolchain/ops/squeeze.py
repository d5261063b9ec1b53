"""SQUEEZE: drop size-1 dimensions: those listed in `squeeze_dims` (negative counts from the
end), or every size-1 dimension when the list is empty. Same bytes, new shape.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..ir import GraphError
from . import common
from .opdef import OpDef
from .registry import Node, register


def squeezed_shape(shape: tuple[int, ...], dims) -> tuple[int, ...]:
    """`shape` without the squeezed dimensions; GraphError for a bad or non-1 dimension."""
    rank = len(shape)
    if not dims:
        return tuple(d for d in shape if d != 1)
    drop = set()
    for d in dims:
        d = int(d)
        if not -rank <= d < rank:
            raise GraphError(f"SQUEEZE: dimension {d} out of range for rank {rank}")
        if shape[d % rank] != 1:
            raise GraphError(f"SQUEEZE: dimension {d} of shape {list(shape)} is not 1")
        drop.add(d % rank)
    return tuple(s for i, s in enumerate(shape) if i not in drop)


@register
class Squeeze(OpDef):
    kind = "SQUEEZE"
    tflite_options = "SqueezeOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0], "input", "SQUEEZE")
        return [(squeezed_shape(x.shape, op.attr("squeeze_dims", ())), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        return [np.asarray(args[0]).reshape(node.outs[0].shape)]

    @staticmethod
    def attrs_from_tflite(o):
        dims = common.options_get(o, "squeezeDims", None)
        return dict(squeeze_dims=tuple(int(d) for d in (dims if dims is not None else ())))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.SqueezeOptionsT()
        o.squeezeDims = [int(d) for d in attrs.get("squeeze_dims", ())]
        return o

    @staticmethod
    def lower_c(node: Node):
        return cparams.alias(node)
