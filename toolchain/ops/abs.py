"""ABS: |x| element-wise; float32, or int8 / int16 (zero points 0) requantized.

TFLM (elementwise.cc AbsEvalQuantized): v = |q - zp_in|; when the float32 input and output
scales differ, v = MBQM(v, M, shift) with (M, shift) from (double)s_in / (double)s_out; then
+ zp_out, clamped to the type's range. Equal scales skip the multiply, which is the identity
multiplier here (QuantizeMultiplier(1.0) = (2^30, 1) is exact), so one formula serves both.
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .quantize import limits
from .registry import Node, OpDef, register
from .relu import unary_check, unary_infer

IDENTITY = fp.quantize_multiplier(1.0)


def abs_multiplier(s_in: float, s_out: float) -> tuple[int, int]:
    """(M, shift): TFLM rescales only when the float32 scales differ."""
    if np.float32(s_in) == np.float32(s_out):
        return IDENTITY
    return fp.quantize_multiplier(float(np.float32(s_in)) / float(np.float32(s_out)))


def abs_params(node: Node) -> tuple[int, int, int, int]:
    """(zp_in, zp_out, M, shift) of a quantized ABS node: the reference and C share them."""
    (s_in, zp_in), (s_out, zp_out) = common.qparams(node.ins[0]), common.qparams(node.outs[0])
    return (zp_in, zp_out, *abs_multiplier(s_in, s_out))


@register
class Abs(OpDef):
    kind = "ABS"
    tflite_options = "AbsOptions"

    @staticmethod
    def infer(op, ins):
        return unary_infer("ABS", ins)

    @staticmethod
    def check(op, ins, outs):
        unary_check("ABS", ins, outs)
        if ins[0].dtype != "float32":
            s_in, s_out = ins[0].quant.s, outs[0].quant.s
            common.check_left_shift("ABS", abs_multiplier(s_in, s_out)[1], s_in / s_out,
                                    "input / output scale")

    @staticmethod
    def reference(node: Node, args):
        dtype = node.ins[0].dtype
        if dtype == "float32":
            return [np.abs(np.asarray(args[0], np.float32))]
        zp_in, zp_out, mult, shift = abs_params(node)
        v = np.abs(fp.i64(args[0]) - zp_in)
        out = fp.mbqm(v, mult, shift) + zp_out
        return [np.clip(out, *limits(dtype)).astype(dtype)]

    @staticmethod
    def lower_c(node: Node):
        """fitml_abs_f32, or fitml_abs_s8 / _s16 with the requantization parameters."""
        x = node.ins[0]
        if x.dtype == "float32":
            return cparams.in_place(CCall("fitml_abs_f32", "fitml_size_params",
                                          dict(size=x.size), cparams.io(node)), node)
        zp_in, zp_out, mult, shift = abs_params(node)
        lo, hi = limits(x.dtype)
        kernel = "fitml_abs_s8" if x.dtype == "int8" else "fitml_abs_s16"
        return cparams.in_place(CCall(kernel, "fitml_requantize_s8_params",
                                      dict(size=x.size, input_zp=zp_in, output_zp=zp_out,
                                           multiplier=mult, shift=shift, act_min=lo,
                                           act_max=hi), cparams.io(node)), node)

    @staticmethod
    def macs(node):
        return node.outs[0].size
