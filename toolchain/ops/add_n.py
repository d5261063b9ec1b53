"""ADD_N: the sum of N >= 2 inputs of one shape and dtype; float32 and int8 (TFLM add_n.cc),
int32 (LiteRT; TFLM runs float32 and int8 only).

float32 and int32 add in input order from 0 (reference_ops::AddN<T>); int32 wraps.
int8 is TFLM's reference_ops::AddN with ArithmeticParams: every input shares one scale s and
zero point zp (TFLM requires it); each value v - zp is shifted left 20 and multiplied by 0.5
(the multiplier s / 2s), the scaled values summed, the sum multiplied by 2s / (2^20 s_out) and
offset by zp_out. TFLM starts the sum at the scaled -zp, not 0 (its "x = 0" is input1_offset),
so the reference does too. No fused activation: the output clamps to int8.
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8", "int32")
LEFT_SHIFT = 20


def int8_multipliers(s_in: float, s_out: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """((input multiplier, shift), (output multiplier, shift)) as TFLM's Prepare computes."""
    twice = 2.0 * float(np.float32(s_in))
    return (fp.quantize_multiplier(float(np.float32(s_in)) / twice),
            fp.quantize_multiplier(twice / ((1 << LEFT_SHIFT) * float(np.float32(s_out)))))


def add_n_int8(args, zp_in: int, zp_out: int, s_in: float, s_out: float) -> np.ndarray:
    (m_in, e_in), (m_out, e_out) = int8_multipliers(s_in, s_out)

    def scaled(v):
        return fp.rdbpot(fp.srdhm(fp.wrap32(fp.i64(v) << LEFT_SHIFT), m_in), -e_in)
    acc = scaled(np.full(np.shape(args[0]), -zp_in, np.int64))
    for a in args:
        acc = fp.wrap32(acc + scaled(fp.i64(a) - zp_in))
    out = fp.rdbpot(fp.srdhm(acc, m_out), -e_out) + zp_out
    return np.clip(out, -128, 127).astype(np.int8)


@register
class AddN(OpDef):
    kind = "ADD_N"
    tflite_options = "AddNOptions"

    @staticmethod
    def infer(op, ins):
        if len(ins) < 2:
            raise GraphError(f"ADD_N: expects at least 2 inputs, got {len(ins)}")
        xs = [common.need(t, f"input {i}", "ADD_N") for i, t in enumerate(ins)]
        first = xs[0]
        if first.dtype not in DTYPES:
            raise GraphError(f"ADD_N: dtype {first.dtype} not supported (supported: "
                             f"{', '.join(DTYPES)})")
        for t in xs[1:]:
            if t.shape != first.shape or t.dtype != first.dtype:
                raise GraphError(f"ADD_N: input {t.name!r} is {t.dtype}{list(t.shape)}, "
                                 f"{first.name!r} is {first.dtype}{list(first.shape)} "
                                 "(all inputs share one shape and dtype)")
        return [(first.shape, first.dtype)]

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype != "int8":
            return
        q = [common.qparams(t) for t in ins]
        if any((s, zp) != q[0] for s, zp in q[1:]):
            raise GraphError(f"ADD_N: int8 inputs must share one scale and zero point (TFLite "
                             f"Micro requires it), got {sorted(set(q))}")
        (_, e_in), (_, e_out) = int8_multipliers(q[0][0], common.qparams(outs[0])[0])
        if e_out > 0 or e_in > 0:
            raise GraphError("ADD_N: output scale must exceed input scale / 2^19 (TFLite "
                             "Micro needs a multiplier below one)")

    @staticmethod
    def reference(node: Node, args):
        x = node.ins[0]
        if x.dtype == "int8":
            (s_in, zp_in), (s_out, zp_out) = common.qparams(x), common.qparams(node.outs[0])
            return [add_n_int8(args, zp_in, zp_out, s_in, s_out)]
        if x.dtype == "int32":
            return [fp.wrap32(sum(fp.i64(a) for a in args)).astype(np.int32)]
        acc = np.zeros(x.shape, np.float32)
        for a in args:
            acc = (acc + np.asarray(a, np.float32)).astype(np.float32)
        return [acc]

    @staticmethod
    def lower_c(node: Node):
        """fitml_add_n_<f32|s32|s8> over the inputs' pointer array."""
        x = node.ins[0]
        params = dict(size=x.size, num_inputs=len(node.ins))
        io = (tuple(cparams.ref(t) for t in node.ins), cparams.ref(node.outs[0]))
        if x.dtype in ("float32", "int32"):
            suffix = "f32" if x.dtype == "float32" else "s32"
            return CCall(f"fitml_add_n_{suffix}", "fitml_add_n_params", params, io)
        if x.dtype != "int8":
            raise cparams.unsupported(node)
        (s_in, zp_in), (s_out, zp_out) = common.qparams(x), common.qparams(node.outs[0])
        (m_in, e_in), (m_out, e_out) = int8_multipliers(s_in, s_out)
        params.update(input_zp=zp_in, output_zp=zp_out, input_multiplier=m_in,
                      input_shift=e_in, output_multiplier=m_out, output_shift=e_out)
        return CCall("fitml_add_n_s8", "fitml_add_n_s8_params", params, io)

    @staticmethod
    def macs(node):
        return node.outs[0].size * (len(node.ins) - 1)
