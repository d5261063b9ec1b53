"""PADV2: PAD with an explicit scalar fill (input 2, `constant_values`).

For int8 TFLM requires the fill to share the output's scale and zero point; its raw code is
written as is. Without input 2 the op behaves exactly like PAD.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from . import common
from .pad import check_pad, default_fill, infer_pad, lower_pad, pad_array
from .opdef import OpDef
from .registry import Node, register


def fill_of(node: Node, args=None):
    """The fill: constant_values (from `args` when given, else its data), or PAD's default."""
    if len(node.ins) < 3 or node.ins[2] is None:
        return default_fill(node)
    value = args[2] if args is not None and len(args) > 2 else node.ins[2].data
    return np.asarray(value).reshape(-1)[0]


@register
class PadV2(OpDef):
    kind = "PADV2"
    tflite_options = "PadV2Options"

    @staticmethod
    def infer(op, ins):
        return infer_pad("PADV2", ins)

    @staticmethod
    def check(op, ins, outs):
        check_pad("PADV2", ins, outs)
        value = ins[2] if len(ins) > 2 else None
        if value is None:
            return
        out = outs[0]
        if value.dtype != out.dtype:
            raise GraphError(f"PADV2: constant_values is {value.dtype}, output {out.dtype}")
        if value.size != 1:
            raise GraphError(f"PADV2: constant_values must be a scalar, has shape "
                             f"{list(value.shape)}")
        if out.dtype == "int8" and (
                value.quant is None or common.qparams(value) != common.qparams(out)):
            raise GraphError("PADV2: int8 constant_values must have the output's scale and "
                             f"zero point {common.qparams(out)}, has "
                             f"{None if value.quant is None else common.qparams(value)}")

    @staticmethod
    def reference(node: Node, args):
        pads = common.const_ints(node.ins[1], "paddings", "PADV2")
        x = np.asarray(args[0])
        return [pad_array(x, pads, fill_of(node, args), x.dtype)]

    @staticmethod
    def attrs_to_tflite(attrs):
        return schema.PadV2OptionsT()

    @staticmethod
    def lower_c(node: Node):
        return lower_pad(node, fill_of(node))
