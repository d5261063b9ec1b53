"""SELECT (v1): condition ? x : y on equal shapes, or a rank-1 condition picking slices along
the first dim. No TFLM kernel (LiteRT has one); the arithmetic and C are SELECT_V2's."""
from __future__ import annotations

from ..ir import GraphError
from .registry import Node, register
from .select_v2 import SelectV2


@register
class Select(SelectV2):
    kind = "SELECT"
    tflite_options = "SelectOptions"

    @classmethod
    def infer(cls, op, ins):
        c, x, y = cls.operands(ins)
        rank_one = len(c.shape) == 1 and x.shape and c.shape[0] == x.shape[0]
        if x.shape != y.shape or (c.shape != x.shape and not rank_one):
            raise GraphError(f"SELECT: x {list(x.shape)} and y {list(y.shape)} must have one "
                             f"shape, the condition {list(c.shape)} that shape or its first dim "
                             "(SELECT_V2 broadcasts)")
        return [(tuple(x.shape), x.dtype)]

    @classmethod
    def condition_shape(cls, node: Node) -> tuple[int, ...]:
        c, x = node.ins[0].shape, node.ins[1].shape
        return tuple(c) + (1,) * (len(x) - len(c))
