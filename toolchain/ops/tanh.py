"""TANH: float32, int8 -> int8 with TFLM's gemmlowp fixed-point tanh, or int16 -> int16 with
TFLM's interpolated sigmoid table (ops/int16_nonlinear.py; zero points 0, output scale 2^-15).

int8 shares LOGISTIC's Q4.27 input rescale and radius. TFLM checks nothing about the output
and adds no output offset: the result is read as scale 1/128, zero point 0.
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..arith import gemmlowp as gl
from . import int16_nonlinear as nl
from .logistic import (INPUT_INTEGER_BITS, check_int8_io, infer_same, lower_q4, rescale_q4,
                       saturate)
from .opdef import OpDef
from .registry import Node, input_filter_dtypes, register


@register
class Tanh(OpDef):
    kind = "TANH"
    signature = staticmethod(input_filter_dtypes)     # int8: a table where it pays (lut_lowering)
    own_dtypes = (("float32", "none"), ("int8", "none"), ("int16", "none"))

    @staticmethod
    def infer(op, ins):
        return infer_same("TANH", ins)

    @staticmethod
    def check(op, ins, outs):
        check_int8_io("TANH", ins, outs)

    @staticmethod
    def reference(node: Node, args):
        if not node.quantized:
            return [np.tanh(np.asarray(args[0], np.float32)).astype(np.float32)]
        if node.ins[0].dtype == "int16":
            return [nl.tanh_s16(args[0], *nl.q3_input_params("TANH", node.ins[0].quant.s))]
        x, a, radius = rescale_q4(args[0], node)
        y = gl.tanh(a, INPUT_INTEGER_BITS)
        inside = np.clip(fp.rdbpot(y, 31 - 7), -128, 127)
        return [saturate(x, radius, inside)]

    @staticmethod
    def lower_c(node: Node):
        return lower_q4(node)
