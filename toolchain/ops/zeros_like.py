"""ZEROS_LIKE: a tensor of zeros with the input's shape and dtype (TFLM zeros_like.cc: float32,
int32, int64). The C kernel clears the output's bytes."""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int32", "int64")


@register
class ZerosLike(OpDef):
    kind = "ZEROS_LIKE"
    tflite_options = "ZerosLikeOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "ZEROS_LIKE")
        if x.dtype not in DTYPES:
            raise GraphError(f"ZEROS_LIKE: dtype {x.dtype} not supported (supported: "
                             f"{', '.join(DTYPES)}, as in TFLite Micro)")
        return [(x.shape, x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        return [np.zeros(node.outs[0].shape, node.outs[0].dtype)]

    @staticmethod
    def lower_c(node: Node):
        out = node.outs[0]
        return CCall("fitml_zeros_like", "fitml_zeros_params",
                     dict(bytes=out.size * np.dtype(out.dtype).itemsize), (cparams.ref(out),))
