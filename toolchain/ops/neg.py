"""NEG: -x element-wise, float32 only (TFLM neg.cc has no integer kernel; TFLite's
converter folds a quantized negation into a SUB)."""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register


@register
class Neg(OpDef):
    kind = "NEG"
    tflite_options = "NegOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "NEG")
        if x.dtype != "float32":
            raise GraphError(f"NEG: dtype {x.dtype} not supported (supported: float32, as in "
                             "TFLite Micro)")
        return [(x.shape, x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        return [np.negative(np.asarray(args[0], np.float32))]

    @staticmethod
    def lower_c(node: Node):
        return cparams.in_place(CCall("fitml_neg_f32", "fitml_size_params",
                                      dict(size=node.ins[0].size), cparams.io(node)), node)
