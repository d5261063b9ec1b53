"""SQUARED_DIFFERENCE: (x - y)^2 element-wise with NumPy broadcasting.

Quantized per TFLM (squared_difference.cc): ADD's input rescaling (addsub.py), with left shift
7 for int8 and 0 for int16 (zero points 0): each (q - zp) << shift is scaled by s_i / (2 max
s), the difference squared in int32, then MBQM by (2 max s)^2 / (2^(2 shift) s_out), all
derived in double, + zp_out and clamped to the type's range. No fused activation.
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import broadcast, common, int16
from ..arith.addsub import scale_down
from .quantize import limits
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8", "int16", "int32")
LEFT_SHIFTS = {"int8": 7, "int16": 0}


def multipliers(s1: float, s2: float, s_out: float, left_shift: int):
    """[(M1, e1), (M2, e2), (M_out, e_out)] as TFLM's PrepareQuantized derives them."""
    twice = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    out_den = float(np.float32(1 << (2 * left_shift)) * np.float32(s_out))  # int * float
    reals = [float(s1) / twice, float(s2) / twice, twice * twice / out_den]
    return [fp.quantize_multiplier(m) for m in reals]


def params(node: Node):
    """(zp1, zp2, zp_out, left shift, multipliers) of a quantized node (reference and C)."""
    (s1, zp1), (s2, zp2) = common.qparams(node.ins[0]), common.qparams(node.ins[1])
    s_out, zp_out = common.qparams(node.outs[0])
    shift = LEFT_SHIFTS[node.ins[0].dtype]
    return zp1, zp2, zp_out, shift, multipliers(s1, s2, s_out, shift)


@register
class SquaredDifference(OpDef):
    kind = "SQUARED_DIFFERENCE"
    tflite_options = "SquaredDifferenceOptions"

    @staticmethod
    def infer(op, ins):
        return broadcast.binary_infer("SQUARED_DIFFERENCE", ins, DTYPES)

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype not in LEFT_SHIFTS:
            return
        tensors = (ins[0], ins[1], outs[0])
        broadcast.check_per_tensor("SQUARED_DIFFERENCE", tensors)
        if ins[0].dtype == "int16":
            int16.check_zero_points("SQUARED_DIFFERENCE", tensors)
        s1, s2, so = (t.quant.s for t in tensors)
        left = LEFT_SHIFTS[ins[0].dtype]
        real = (2 * max(s1, s2)) ** 2 / ((1 << 2 * left) * so)
        common.check_left_shift("SQUARED_DIFFERENCE", multipliers(s1, s2, so, left)[2][1],
                                real, "output multiplier")

    @staticmethod
    def reference(node: Node, args):
        x, y = args[0], args[1]
        dtype = node.ins[0].dtype
        if dtype == "float32":
            d = np.asarray(x, np.float32) - np.asarray(y, np.float32)
            return [(d * d).astype(np.float32)]
        if dtype == "int32":
            d = fp.wrap32(fp.i64(x) - fp.i64(y))
            return [fp.wrap32(d * d).astype(np.int32)]
        zp1, zp2, zp_out, shift, ((m1, e1), (m2, e2), (mo, eo)) = params(node)
        a = scale_down(fp.wrap32((fp.i64(x) - zp1) << shift), m1, e1)
        b = scale_down(fp.wrap32((fp.i64(y) - zp2) << shift), m2, e2)
        d = a - b
        out = fp.mbqm(fp.wrap32(d * d), mo, eo) + zp_out
        return [np.clip(out, *limits(dtype)).astype(dtype)]

    @staticmethod
    def lower_c(node: Node):
        """float32: fitml_squared_difference_f32 (no clamp); int8 / int16: ADD's struct."""
        dtype = node.ins[0].dtype
        if dtype == "float32":
            return cparams.in_place(CCall("fitml_squared_difference_f32",
                                          "fitml_binary_f32_params",
                                          dict(bc=cparams.broadcast(node),
                                               act_min=-cparams.FLT_MAX,
                                               act_max=cparams.FLT_MAX),
                                          cparams.binary_io(node)), node)
        if dtype not in LEFT_SHIFTS:
            raise cparams.unsupported(node)
        zp1, zp2, zp_out, shift, ((m1, e1), (m2, e2), (mo, eo)) = params(node)
        lo, hi = limits(dtype)
        suffix = "s8" if dtype == "int8" else "s16"
        return cparams.in_place(CCall(f"fitml_squared_difference_{suffix}",
                                      "fitml_add_s8_params",
                                      dict(bc=cparams.broadcast(node), input1_zp=zp1,
                                           input2_zp=zp2, output_zp=zp_out, left_shift=shift,
                                           input1_multiplier=m1, input1_shift=e1,
                                           input2_multiplier=m2, input2_shift=e2,
                                           output_multiplier=mo, output_shift=eo,
                                           act_min=lo, act_max=hi, lut="NULL"),
                                      cparams.binary_io(node)), node)

    @staticmethod
    def macs(node):
        return node.outs[0].size
