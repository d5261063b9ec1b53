"""ADD and SUB: the op definition they share (add.py, sub.py register it under their kind);
their int8/int16 arithmetic (TFLM `AddFunc` / `SubFunc`) is in arith/addsub.py."""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..arith.addsub import LEFT_SHIFT, LEFT_SHIFTS, addsub_int8, addsub_multipliers
from ..ir import GraphError
from ..lowering import cdsp, cparams
from ..lowering.ccall import CCall
from . import broadcast, common, int16
from .opdef import OpDef
from .registry import Node

DTYPES = ("float32", "int8", "int16", "int32")


class AddSubBase(common.FusedActivationOptions, OpDef):
    """Shared definition; subclasses set kind, tflite_options and SIGN."""

    SIGN = 1

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
