"""EXPAND_DIMS: insert a size-1 dimension at a constant axis (int32 or int64, one value;
negative counts from the end of the output, -1 appends), as TFLM's expand_dims.cc. Same bytes,
new shape: no copy.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from . import common
from .opdef import OpDef
from .registry import Node, register


def expanded_shape(shape: tuple[int, ...], axis_t) -> tuple[int, ...]:
    """`shape` with a 1 inserted at the axis operand's position; GraphError when out of range."""
    values = common.const_ints(axis_t, "axis", "EXPAND_DIMS").reshape(-1)
    if values.size != 1:
        raise GraphError(f"EXPAND_DIMS: axis {axis_t.name!r} must hold one value, "
                         f"has {values.size}")
    rank, axis = len(shape), int(values[0])
    if not -rank - 1 <= axis <= rank:
        raise GraphError(f"EXPAND_DIMS: axis {axis} out of range for rank {rank} "
                         f"(takes {-rank - 1} to {rank})")
    axis = axis + rank + 1 if axis < 0 else axis
    return shape[:axis] + (1,) + shape[axis:]


@register
class ExpandDims(OpDef):
    kind = "EXPAND_DIMS"
    tflite_options = "ExpandDimsOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "EXPAND_DIMS")
        return [(expanded_shape(x.shape, ins[1] if len(ins) > 1 else None), x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        return [np.asarray(args[0]).reshape(node.outs[0].shape)]

    @staticmethod
    def lower_c(node: Node):
        return cparams.alias(node)
