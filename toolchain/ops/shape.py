"""SHAPE: the input's dimensions as an int32 (or int64) vector.

fitml's shapes are static, so the value is known when the graph is built: the constant folding
pass (passes/fold_constants.py) replaces every SHAPE by a constant (`shape_only`), and the
STRIDED_SLICE / PACK / RESHAPE chains that read it fold after it. It has no C kernel.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError
from . import common
from .registry import Node, OpDef, register

OUT_TYPES = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


@register
class Shape(OpDef):
    kind = "SHAPE"
    tflite_options = "ShapeOptions"
    shape_only = True

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "SHAPE")
        out = op.attr("out_type", "int32")
        if out not in ("int32", "int64"):
            raise GraphError(f"SHAPE: {out} output is not supported (int32 or int64 are)")
        return [((len(x.shape),), out)]

    @staticmethod
    def reference(node: Node, args):
        return [np.asarray(node.ins[0].shape, node.outs[0].dtype)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(out_type=OUT_TYPES.get(int(common.options_get(o, "outType", 2)), "unknown"))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.ShapeOptionsT()
        o.outType = getattr(schema.TensorType, attrs.get("out_type", "int32").upper())
        return o
