"""ADD and SUB share one int8 arithmetic (TFLM `AddFunc` / `SubFunc`): each input is shifted
left by 20 and rescaled to twice the larger input scale with its own rounding, the two are
added (or subtracted), then rescaled to the output. It does not reduce to one multiplier.

All three multipliers are derived in double for both ops. TFLITE_INT8.md (TFLM 90b983c2) says
SUB derives them in float32, but the tflite-micro build we verify against, and LiteRT, use
double for SUB too (tests/test_ops_elementwise.py shows the float32 variant disagreeing);
`addsub_multipliers(float32=True)` keeps that variant for comparison only.
"""
from __future__ import annotations

import numpy as np

from ..lowering import cdsp, cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from ..arith import fixedpoint as fp
from . import broadcast, common, int16
from .registry import Node, OpDef

LEFT_SHIFT = 20
LEFT_SHIFTS = {"int8": LEFT_SHIFT, "int16": 15}   # TFLM add_common.cc / sub_common.cc
DTYPES = ("float32", "int8", "int16", "int32")


def addsub_multipliers(s1: float, s2: float, s_out: float, float32: bool = False,
                       left_shift: int = LEFT_SHIFT):
    """[(M1, shift1), (M2, shift2), (M_out, shift_out)] and the real output multiplier."""
    if float32:  # old TFLM SUB: every quotient evaluated in float32, then widened
        f1, f2, fo = np.float32(s1), np.float32(s2), np.float32(s_out)
        twice = np.float32(2) * max(f1, f2)
        reals = [float(f1 / twice), float(f2 / twice),
                 float(twice / (np.float32(1 << left_shift) * fo))]
    else:
        twice = 2.0 * max(float(s1), float(s2))
        reals = [float(s1) / twice, float(s2) / twice,
                 twice / ((1 << left_shift) * float(s_out))]
    return [fp.quantize_multiplier(m) for m in reals], reals[2]


def scale_down(x: np.ndarray, mult: int, shift: int) -> np.ndarray:
    """MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0)."""
    return fp.rdbpot(fp.srdhm(x, mult), -shift)


def addsub_int8(q1, q2, zp1: int, zp2: int, zp_out: int, params, sign: int,
                lo: int, hi: int, left_shift: int = LEFT_SHIFT, dtype=np.int8) -> np.ndarray:
    """Per-element TFLM int8 ADD (sign=+1) / SUB (sign=-1), with numpy broadcasting; int16
    (TFLM's general-scale path, `pot_scale` false) is the same with left shift 15."""
    (m1, e1), (m2, e2), (mo, eo) = params
    a1 = scale_down(fp.wrap32((fp.i64(q1) - zp1) << left_shift), m1, e1)
    a2 = scale_down(fp.wrap32((fp.i64(q2) - zp2) << left_shift), m2, e2)
    total = fp.wrap32(a1 + sign * a2)
    out = scale_down(total, mo, eo) + zp_out
    return np.clip(out, lo, hi).astype(dtype)


class AddSubBase(OpDef):
    """Shared definition; subclasses set kind, tflite_options, SIGN and OPTIONS."""

    SIGN = 1
    OPTIONS = None  # object-API options class, e.g. schema.AddOptionsT

    @classmethod
    def infer(cls, op, ins):
        return broadcast.binary_infer(cls.kind, ins, DTYPES)

    @classmethod
    def check(cls, op, ins, outs):
        if ins[0].dtype not in LEFT_SHIFTS:
            return
        broadcast.check_per_tensor(cls.kind, (ins[0], ins[1], outs[0]))
        if ins[0].dtype == "int16":
            int16.check_zero_points(cls.kind, (ins[0], ins[1], outs[0]))
        params, real_out = addsub_multipliers(ins[0].quant.s, ins[1].quant.s,
                                              outs[0].quant.s,
                                              left_shift=LEFT_SHIFTS[ins[0].dtype])
        if not real_out < 1.0 or any(shift > 0 for _, shift in params):
            raise GraphError(f"{cls.kind}: output scale {outs[0].quant.s:g} too small for "
                             f"input scales {ins[0].quant.s:g}, {ins[1].quant.s:g} "
                             f"(output multiplier {real_out:g} must be < 1)")

    @classmethod
    def reference(cls, node: Node, args):
        x, y = args[0], args[1]
        act = node.attr("activation", "NONE")
        dtype = node.ins[0].dtype
        if dtype == "float32":
            z = x.astype(np.float32) + np.float32(cls.SIGN) * y.astype(np.float32)
            return [fp.float_activation(z.astype(np.float32), act)]
        if dtype == "int32":  # TFLM ignores the fused activation on int32
            return [fp.wrap32(fp.i64(x) + cls.SIGN * fp.i64(y)).astype(np.int32)]
        (s1, zp1), (s2, zp2) = common.qparams(node.ins[0]), common.qparams(node.ins[1])
        s_out, zp_out = common.qparams(node.outs[0])
        shift = LEFT_SHIFTS[dtype]
        params, _ = addsub_multipliers(s1, s2, s_out, left_shift=shift)
        if dtype == "int16":
            lo, hi = int16.bounds(node)
            return [addsub_int8(x, y, zp1, zp2, zp_out, params, cls.SIGN, lo, hi, shift,
                                np.int16)]
        lo, hi = common.output_bounds(act, node.outs[0])
        return [addsub_int8(x, y, zp1, zp2, zp_out, params, cls.SIGN, lo, hi)]

    @staticmethod
    def attrs_from_tflite(o):
        code = common.options_get(o, "fusedActivationFunction", 0)
        return dict(activation=common.activation_name(code))

    @classmethod
    def attrs_to_tflite(cls, attrs):
        o = cls.OPTIONS()
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "NONE"))
        return o

    @classmethod
    def lower_c(cls, node: Node):
        a, b, out = node.ins[0], node.ins[1], node.outs[0]
        if a.dtype == "float32":
            return cparams.binary_f32(node)
        if a.dtype == "int16":
            return cls.lower_s16(node)
        if a.dtype != "int8":
            raise cparams.unsupported(node)
        (s1, zp1), (s2, zp2) = common.qparams(a), common.qparams(b)
        s_out, zp_out = common.qparams(out)
        (m1, e1), (m2, e2), (mo, eo) = addsub_multipliers(s1, s2, s_out)[0]
        lo, hi = common.output_bounds(node.attr("activation", "NONE"), out)
        # DSP kernels: both inputs' rescaling tabulated per code (cdsp.addsub_lut)
        lut = cdsp.addsub_lut(node, zp1, zp2, zp_out, ((m1, e1), (m2, e2), (mo, eo)), cls.SIGN)
        return cparams.in_place(CCall(f"fitml_{cls.kind.lower()}_s8", "fitml_add_s8_params",
                     dict(bc=cparams.broadcast(node), input1_zp=zp1, input2_zp=zp2,
                          output_zp=zp_out, left_shift=LEFT_SHIFT, input1_multiplier=m1,
                          input1_shift=e1, input2_multiplier=m2, input2_shift=e2,
                          output_multiplier=mo, output_shift=eo, act_min=lo, act_max=hi,
                          lut=lut),
                     cparams.binary_io(node)), node)

    @classmethod
    def lower_s16(cls, node: Node):
        """int16 ADD / SUB: fitml_<op>_s16, the int8 struct with left shift 15 and no LUT."""
        a, b, out = node.ins[0], node.ins[1], node.outs[0]
        shift = LEFT_SHIFTS["int16"]
        (m1, e1), (m2, e2), (mo, eo) = addsub_multipliers(a.quant.s, b.quant.s, out.quant.s,
                                                          left_shift=shift)[0]
        lo, hi = int16.bounds(node)
        return cparams.in_place(CCall(f"fitml_{cls.kind.lower()}_s16", "fitml_add_s8_params",
                     dict(bc=cparams.broadcast(node), input1_zp=0, input2_zp=0, output_zp=0,
                          left_shift=shift, input1_multiplier=m1, input1_shift=e1,
                          input2_multiplier=m2, input2_shift=e2, output_multiplier=mo,
                          output_shift=eo, act_min=lo, act_max=hi, lut="NULL"),
                     cparams.binary_io(node)), node)
