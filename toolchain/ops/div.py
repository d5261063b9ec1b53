"""DIV: element-wise quotient with NumPy broadcasting and a fused activation; float32 or int8.

int8 per TFLM (div.cc, reference DivElementwise): the multiplier is s1 / (s2 * s_out)
evaluated in float32, then QuantizeMultiplier. Per element: v1 = q1 - zp1, v2 = q2 - zp2,
both negated when v2 < 0; 1/v2 as GetReciprocal(v2, 31) (a Q0.31 value and a shift); v1 is
shifted left by its leading sign bits, SRDHM'd by the reciprocal, then SRDHM'd by the
multiplier and rounded right by headroom + recip_shift - output_shift; + zp_out, clamped.

That last shift exceeds 31 whenever the numerator is small (0 / x always does once 1/x needs a
shift): undefined behaviour in TFLM's RoundingDivideByPOT. The TFLite Micro build fitml
verifies against (x86) computes (x >> (e mod 32)) + (x >= 0) there: zp_out + 1 for 0 / x,
far-off codes for other small numerators. The reference and the C kernel reproduce exactly
that, so models verify bit for bit. A zero divisor (also undefined) follows the same build.
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..arith import gemmlowp as gl
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import broadcast, common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8")
MAX_SHIFT = 22         # keeps the last shift >= 0: headroom >= 23, recip shift >= -1


def div_multiplier(s1: float, s2: float, s_out: float) -> tuple[int, int]:
    """QuantizeMultiplier((double)(s1 / (s2 * s_out))), the quotient in float32."""
    s1, s2, s_out = np.float32(s1), np.float32(s2), np.float32(s_out)
    return fp.quantize_multiplier(float(s1 / (s2 * s_out)))


def leading_sign_bits(x) -> np.ndarray:
    """CountLeadingSignBits of int32 values (31 for 0 and -1)."""
    x = fp.i64(x)
    return gl.clz32(np.where(x < 0, ~x, x)) - 1


def rdbpot_tflm(x, e) -> np.ndarray:
    """RoundingDivideByPOT as TFLM's x86 build computes it, exponents above 31 included (mask
    all ones, the shift count taken mod 32)."""
    x, e = fp.i64(x), fp.i64(e)
    return np.where(e > 31, (x >> (e & 31)) + (x >= 0), fp.rdbpot(x, np.minimum(e, 31)))


def div_int8(q1, q2, zp1: int, zp2: int, zp_out: int, mult: int, shift: int,
             lo: int, hi: int) -> np.ndarray:
    """TFLM's DivElementwise on broadcast int8 codes."""
    v1, v2 = np.broadcast_arrays(fp.i64(q1) - zp1, fp.i64(q2) - zp2)
    v1, v2 = np.where(v2 < 0, -v1, v1), np.abs(v2)
    recip, recip_shift = gl.get_reciprocal(v2, 31)
    headroom = leading_sign_bits(v1)
    unscaled = fp.srdhm(v1 << headroom, recip)
    out = rdbpot_tflm(fp.srdhm(unscaled, mult), headroom + recip_shift - shift) + zp_out
    return np.clip(out, lo, hi).astype(np.int8)


@register
class Div(common.FusedActivationOptions, OpDef):
    kind = "DIV"
    tflite_options = "DivOptions"

    @staticmethod
    def infer(op, ins):
        return broadcast.binary_infer("DIV", ins, DTYPES)

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype != "int8":
            return
        broadcast.check_per_tensor("DIV", (ins[0], ins[1], outs[0]))
        s1, s2, so = (t.quant.s for t in (ins[0], ins[1], outs[0]))
        if div_multiplier(s1, s2, so)[1] > MAX_SHIFT:
            raise GraphError(f"DIV: output scale {so:g} too small for input scales {s1:g}, "
                             f"{s2:g} (s1 / (s2 * s_out) must stay below 2^{MAX_SHIFT - 1})")

    @staticmethod
    def reference(node: Node, args):
        act = node.attr("activation", "NONE")
        if node.ins[0].dtype == "float32":
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.asarray(args[0], np.float32) / np.asarray(args[1], np.float32)
            return [fp.float_activation(z.astype(np.float32), act)]
        (s1, zp1), (s2, zp2) = common.qparams(node.ins[0]), common.qparams(node.ins[1])
        s_out, zp_out = common.qparams(node.outs[0])
        lo, hi = common.output_bounds(act, node.outs[0])
        return [div_int8(args[0], args[1], zp1, zp2, zp_out, *div_multiplier(s1, s2, s_out),
                         lo, hi)]

    @staticmethod
    def lower_c(node: Node):
        """fitml_div_f32 (the float binary struct) or fitml_div_s8 (MUL's int8 struct)."""
        a, b, out = node.ins[0], node.ins[1], node.outs[0]
        if a.dtype == "float32":
            return cparams.binary_f32(node)
        (s1, zp1), (s2, zp2) = common.qparams(a), common.qparams(b)
        s_out, zp_out = common.qparams(out)
        mult, shift = div_multiplier(s1, s2, s_out)
        lo, hi = common.output_bounds(node.attr("activation", "NONE"), out)
        return cparams.in_place(CCall("fitml_div_s8", "fitml_mul_s8_params",
                     dict(bc=cparams.broadcast(node), input1_zp=zp1, input2_zp=zp2,
                          output_zp=zp_out, output_multiplier=mult, output_shift=shift,
                          act_min=lo, act_max=hi), cparams.binary_io(node)), node)

    @staticmethod
    def macs(node):
        return node.outs[0].size
