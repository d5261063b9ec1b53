"""RELU6: clamp(x, 0, 6). Quantized (int8; int16 with zero points 0) TFLM clamps the raw
input codes to [zp_in, six] with six = clamp(round(6 / s_in) + zp_in) in the input's own
quantization (activations_common.cc Relu6Prepare, Relu6Quantized): no requantization, the
output scale and zero point are not read. TFLite (LiteRT) instead requantizes to the output
params, so the two agree only when input and output share their quantization.
"""
from __future__ import annotations

import numpy as np

from ..lowering import cparams
from ..lowering.ccall import CCall
from ..arith import fixedpoint as fp
from . import common
from .quantize import limits
from .opdef import OpDef
from .registry import Node, register
from .relu import unary_check, unary_infer


def relu6_bounds(scale: float, zp: int, dtype: str) -> tuple[int, int]:
    """(zero, six) codes in the input quantization (FloatToQuantizedType, float32 division)."""
    qmin, qmax = limits(dtype)
    six = int(fp.round_half_away(np.float32(6.0) / np.float32(scale))) + zp
    return zp, min(max(six, qmin), qmax)


@register
class Relu6(OpDef):
    kind = "RELU6"
    tflite_options = None

    @staticmethod
    def infer(op, ins):
        return unary_infer("RELU6", ins)

    @staticmethod
    def check(op, ins, outs):
        unary_check("RELU6", ins, outs)

    @staticmethod
    def reference(node: Node, args):
        x = node.ins[0]
        if x.dtype == "float32":
            return [np.clip(args[0], np.float32(0), np.float32(6)).astype(np.float32)]
        lo, hi = relu6_bounds(*common.qparams(x), x.dtype)
        return [np.clip(args[0], lo, hi).astype(x.dtype)]

    @staticmethod
    def lower_c(node: Node):
        x = node.ins[0]
        if x.dtype == "float32":
            return cparams.in_place(CCall("fitml_relu_f32", "fitml_clamp_f32_params",
                         dict(size=x.size, act_min=0.0, act_max=6.0), cparams.io(node)), node)
        lo, hi = relu6_bounds(*common.qparams(x), x.dtype)
        kernel = "fitml_relu6_s8" if x.dtype == "int8" else "fitml_relu6_s16"
        return cparams.in_place(CCall(kernel, "fitml_clamp_s8_params",
                     dict(size=x.size, act_min=lo, act_max=hi), cparams.io(node)), node)
