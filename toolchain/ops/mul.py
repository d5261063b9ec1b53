"""MUL: element-wise product with NumPy broadcasting and a fused activation.

Quantized (int8, int16 with zero points 0): one multiplier m = s1*s2/s_out derived in double;
it may exceed 1, so MBQM can shift left (TFLM mul_common.cc, integer_ops/mul.h).
"""
from __future__ import annotations

import numpy as np

from ..lowering import cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from ..arith import fixedpoint as fp
from . import broadcast, common
from .opdef import OpDef
from .registry import Node, register

DTYPES = ("float32", "int8", "int16", "int32")
QUANT_LIMITS = {"int8": (-128, 127), "int16": (-32768, 32767)}
INT32_ACT = {"RELU": (0, fp.INT32_MAX), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}


def mul_multiplier(s1: float, s2: float, s_out: float) -> tuple[int, int]:
    """(M, shift) for m = (double)s1 * (double)s2 / (double)s_out; shift > 0 is a left shift."""
    return fp.quantize_multiplier(float(s1) * float(s2) / float(s_out))


@register
class Mul(common.FusedActivationOptions, OpDef):
    kind = "MUL"
    tflite_options = "MulOptions"

    @staticmethod
    def infer(op, ins):
        return broadcast.binary_infer("MUL", ins, DTYPES)

    @staticmethod
    def check(op, ins, outs):
        dtype = ins[0].dtype
        if dtype not in QUANT_LIMITS:
            return
        broadcast.check_per_tensor("MUL", (ins[0], ins[1], outs[0]))
        if dtype == "int16" and any(t.quant.zp != 0 for t in (ins[0], ins[1], outs[0])):
            raise GraphError("MUL: int16 operands need zero point 0")

    @staticmethod
    def reference(node: Node, args):
        x, y = args[0], args[1]
        act = node.attr("activation", "NONE")
        dtype = node.ins[0].dtype
        if dtype == "float32":
            z = (x.astype(np.float32) * y.astype(np.float32)).astype(np.float32)
            return [fp.float_activation(z, act)]
        if dtype == "int32":
            lo, hi = INT32_ACT.get(act, (fp.INT32_MIN, fp.INT32_MAX))
            z = fp.wrap32(fp.i64(x) * fp.i64(y))
            return [np.clip(z, lo, hi).astype(np.int32)]
        (s1, zp1), (s2, zp2) = common.qparams(node.ins[0]), common.qparams(node.ins[1])
        s_out, zp_out = common.qparams(node.outs[0])
        mult, shift = mul_multiplier(s1, s2, s_out)
        qmin, qmax = QUANT_LIMITS[dtype]
        lo, hi = fp.activation_bounds(act, s_out, zp_out, qmin, qmax)
        prod = fp.wrap32((fp.i64(x) - zp1) * (fp.i64(y) - zp2))
        out = fp.mbqm(prod, mult, shift) + zp_out
        return [np.clip(out, lo, hi).astype(dtype)]

    @staticmethod
    def lower_c(node: Node):
        a, b, out = node.ins[0], node.ins[1], node.outs[0]
        if a.dtype == "float32":
            return cparams.binary_f32(node)
        if a.dtype not in QUANT_LIMITS:
            raise cparams.unsupported(node)
        (s1, zp1), (s2, zp2) = common.qparams(a), common.qparams(b)
        s_out, zp_out = common.qparams(out)
        mult, shift = mul_multiplier(s1, s2, s_out)
        lo, hi = fp.activation_bounds(node.attr("activation", "NONE"), s_out, zp_out,
                                      *QUANT_LIMITS[a.dtype])
        kernel = "fitml_mul_s8" if a.dtype == "int8" else "fitml_mul_s16"
        return cparams.in_place(CCall(kernel, "fitml_mul_s8_params",
                     dict(bc=cparams.broadcast(node), input1_zp=zp1, input2_zp=zp2,
                          output_zp=zp_out, output_multiplier=mult, output_shift=shift,
                          act_min=lo, act_max=hi), cparams.binary_io(node)), node)

    @staticmethod
    def macs(node):
        return node.outs[0].size
