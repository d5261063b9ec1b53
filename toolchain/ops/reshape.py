"""RESHAPE: same bytes, new shape; optional constant shape operand (input 1).

The target shape comes from attr `new_shape` (authoritative; ReshapeOptions.newShape) or else
from the constant shape operand. One -1 is inferred from the element count, as TFLM does.
Quant params are neither read nor checked: the op moves raw bytes.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..ir import GraphError
from . import common
from .opdef import OpDef
from .registry import Node, register


def resolve_shape(target, count: int, op: str = "RESHAPE") -> tuple[int, ...]:
    """`target` with its single -1 replaced so that it holds `count` elements."""
    target = [int(d) for d in target]
    if target.count(-1) > 1:
        raise GraphError(f"{op}: more than one -1 in shape {target}")
    if any(d < -1 for d in target):
        raise GraphError(f"{op}: negative dimension in shape {target}")
    known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
    if -1 in target:
        if known == 0 or count % known:
            raise GraphError(f"{op}: cannot infer -1 in {target} for {count} elements")
        target[target.index(-1)] = count // known
    elif known != count:
        raise GraphError(f"{op}: shape {target} holds {known} elements, input has {count}")
    return tuple(target)


@register
class Reshape(OpDef):
    kind = "RESHAPE"
    tflite_options = "ReshapeOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0], "input", "RESHAPE")
        target = op.attr("new_shape")
        if target is None:
            shape_t = ins[1] if len(ins) > 1 else None
            if shape_t is None:
                raise GraphError("RESHAPE: no new_shape attribute and no shape operand")
            target = common.const_ints(shape_t, "shape", "RESHAPE").reshape(-1)
        return [(resolve_shape(target, x.size), x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        shape_t = ins[1] if len(ins) > 1 else None
        if op.attr("new_shape") is None or shape_t is None or not shape_t.is_const:
            return
        operand = resolve_shape(common.const_ints(shape_t, "shape", "RESHAPE").reshape(-1),
                                ins[0].size)
        if operand != outs[0].shape:
            raise GraphError(f"RESHAPE: shape operand gives {list(operand)}, new_shape "
                             f"{list(outs[0].shape)}; runtimes would disagree")

    @staticmethod
    def reference(node: Node, args):
        return [np.asarray(args[0]).reshape(node.outs[0].shape)]

    @staticmethod
    def attrs_from_tflite(o):
        shape = common.options_get(o, "newShape", None)
        if shape is None or len(shape) == 0:
            return {}
        return dict(new_shape=tuple(int(d) for d in shape))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.ReshapeOptionsT()
        if attrs.get("new_shape") is not None:
            o.newShape = [int(d) for d in attrs["new_shape"]]
        return o

    @staticmethod
    def lower_c(node: Node):
        return cparams.alias(node)
