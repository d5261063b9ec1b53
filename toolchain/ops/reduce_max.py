"""REDUCE_MAX over the axes held by a constant int32 tensor; keep_dims from ReducerOptions.

As TFLM: the fold starts from the dtype's lowest value and takes a value only when it compares
greater (a NaN never does). int8 compares raw codes, so TFLM requires the input and output
quantization to be equal, and so does fitml.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering.ccall import CCall
from ..lowering import cparams
from . import common, reduction
from .opdef import OpDef
from .registry import Node, register

DTYPES = ("float32", "int8")


def greater(acc, v):
    return np.where(v > acc, v, acc)


@register
class ReduceMax(OpDef):
    kind = "REDUCE_MAX"
    tflite_options = "ReducerOptions"
    attrs_from_tflite = staticmethod(reduction.keep_dims_from_tflite)
    attrs_to_tflite = staticmethod(reduction.keep_dims_to_tflite)

    @staticmethod
    def infer(op, ins):
        return reduction.infer_reduced("REDUCE_MAX", op, ins, DTYPES)

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype == "int8" and common.qparams(ins[0]) != common.qparams(outs[0]):
            raise GraphError(f"REDUCE_MAX: int8 input {ins[0].name!r} and output "
                             f"{outs[0].name!r} must have the same scale and zero point "
                             "(TFLite Micro compares raw codes)")

    @staticmethod
    def reference(node: Node, args):
        x = np.asarray(args[0])
        lowest = np.finfo(np.float32).min if x.dtype == np.float32 else np.iinfo(x.dtype).min
        return [reduction.fold(node, x, lowest, greater).reshape(node.outs[0].shape)]

    @staticmethod
    def lower_c(node: Node):
        suffix = "f32" if node.ins[0].dtype == "float32" else "s8"
        return CCall(f"fitml_reduce_max_{suffix}", "fitml_reduce_params",
                     reduction.walks(node), cparams.io(node))
