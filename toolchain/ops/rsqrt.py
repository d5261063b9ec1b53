"""RSQRT: 1 / sqrt(x) element-wise; float32 (1.f / sqrtf(x)) or int8.

int8 per TFLM (elementwise.cc RsqrtEvalQuantized): v = q - zp_in; v = 0 gives 127; else
1/sqrt(v) as GetInvSqrtQuantizedMultiplierExp(v) (arith/gemmlowp.py), applied to 1 << 20 by
MBQM, then MBQM by 1 / (sqrt(s_in) * s_out) (double) with its shift lowered by 20, + zp_out,
clamped. The result depends on q alone: int8 lowers to the table kernel (ops/lut_lowering.py).
TFLM refuses to run on v < 0 ("only defined for positive values"); fitml gives 127.
"""
from __future__ import annotations

import math

import numpy as np

from ..arith import fixedpoint as fp
from ..arith import gemmlowp as gl
from . import broadcast, common
from .float_unary import FloatUnaryBase
from .registry import Node, input_filter_dtypes, register

SHIFT = 20


def rsqrt_table(s_in: float, zp_in: int, s_out: float, zp_out: int) -> np.ndarray:
    """The int8 output for each input code -128..127."""
    mult, shift = fp.quantize_multiplier(1.0 / (math.sqrt(float(s_in)) * float(s_out)))
    out = []
    for q in range(-128, 128):
        v = q - zp_in
        if v <= 0:
            out.append(127)
            continue
        inv, inv_shift = gl.inv_sqrt_multiplier(v)
        data = fp.mbqm(1, inv, inv_shift + SHIFT)
        out.append(int(np.clip(fp.mbqm(data, mult, shift - SHIFT) + zp_out, -128, 127)))
    return np.asarray(out, np.int8)


def node_table(node: Node) -> np.ndarray:
    (s_in, zp_in), (s_out, zp_out) = common.qparams(node.ins[0]), common.qparams(node.outs[0])
    return rsqrt_table(s_in, zp_in, s_out, zp_out)


@register
class Rsqrt(FloatUnaryBase):
    kind = "RSQRT"
    DTYPES = ("float32", "int8")
    signature = staticmethod(input_filter_dtypes)     # int8: the table kernel (lut_lowering)
    own_dtypes = (("float32", "none"),)
    FUNC = staticmethod(lambda x: np.float32(1) / np.sqrt(x))

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype == "int8":
            broadcast.check_per_tensor("RSQRT", (ins[0], outs[0]))

    @classmethod
    def reference(cls, node: Node, args):
        if node.ins[0].dtype == "float32":
            return super().reference(node, args)
        return [node_table(node)[np.asarray(args[0], np.int64) + 128]]
