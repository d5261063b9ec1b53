"""LOGISTIC (sigmoid): float32, int8 -> int8 with TFLM's gemmlowp fixed-point logistic, or
int16 -> int16 with TFLM's interpolated sigmoid table (ops/int16_nonlinear.py).

int8: the input offset is rescaled into Q4.27 by a frexp-derived multiplier; inputs beyond a
radius saturate. The output is read as scale 1/256, zero point -128 (TFLM checks only the zp).
int16: zero points 0, output scale 2^-15.
"""
from __future__ import annotations

import math

import numpy as np

from ..lowering import cparams
from ..lowering.ccall import CArray, CCall
from ..ir import GraphError
from ..arith import fixedpoint as fp
from ..arith import gemmlowp as gl
from . import common
from . import int16_nonlinear as nl
from .opdef import OpDef
from .registry import Node, input_filter_dtypes, register

INPUT_INTEGER_BITS = 4           # the rescaled input lives in Q4.27
FLOAT_CUTOFF_UPPER = np.float32(16.619047164916992188)
FLOAT_CUTOFF_LOWER = np.float32(-9.0)


def q4_input_params(s_in: float) -> tuple[int, int, int]:
    """(multiplier, left shift, radius) of LOGISTIC/TANH Prepare: std::frexp, no fix-up."""
    q, shift = math.frexp(s_in * float(1 << (31 - INPUT_INTEGER_BITS)))
    if shift < 0:
        raise GraphError(f"input scale {s_in} too small for the Q4.27 rescale")
    mult = int(fp.round_half_away(q * (1 << 31)))
    top = ((1 << INPUT_INTEGER_BITS) - 1) * (1 << (31 - INPUT_INTEGER_BITS))
    return mult, shift, math.floor(top / 2.0 ** shift)


def rescale_q4(q: np.ndarray, node: Node):
    """(x = q - zp_in, x in Q4.27, radius) for the int8 LOGISTIC/TANH kernels."""
    s_in, zp_in = common.qparams(node.ins[0])
    mult, shift, radius = q4_input_params(s_in)
    x = q.astype(np.int64) - zp_in
    return x, fp.mbqm(x, mult, shift), radius


def saturate(x: np.ndarray, radius: int, inside: np.ndarray) -> np.ndarray:
    """-128 / 127 beyond the input radius, else the computed value; as int8."""
    out = np.where(x <= -radius, -128, np.where(x >= radius, 127, inside))
    return out.astype(np.int8)


def check_int8_io(kind: str, ins, outs) -> None:
    """Both int8, int16 or float32; the input scale must allow the Q4.27 (int8) or the
    16-bit (int16) rescale; int16 needs zero points 0 and a 2^-15 output scale."""
    if ins[0].dtype != outs[0].dtype:
        raise GraphError(f"{kind}: input {ins[0].dtype} but output {outs[0].dtype}")
    if ins[0].dtype == "int8":
        q4_input_params(common.qparams(ins[0])[0])
    elif ins[0].dtype == "int16":
        if common.qparams(ins[0])[1] != 0:
            raise GraphError(f"{kind}: int16 input needs zero point 0")
        nl.q3_input_params(kind, ins[0].quant.s)
        nl.check_q15_output(kind, outs[0])


def lower_q4(node: Node) -> CCall:
    """LOGISTIC / TANH: fitml_<op>_f32, or the int8 kernel with the Q4.27 input rescale."""
    x = node.ins[0]
    name = node.op.kind.lower()
    if not node.quantized:
        return cparams.in_place(CCall(f"fitml_{name}_f32", "fitml_size_params", dict(size=x.size),
                     cparams.io(node)), node)
    if x.dtype == "int16":     # the power-of-two case (multiplier 0) as the kernel runs it
        mult, shift = nl.q3_input_params(node.op.kind, x.quant.s)
        mult, shift = (3 << shift, 0) if mult == 0 else (mult, shift)
        table = CArray(nl.sigmoid_table(), "int16_t", role="weights")
        return cparams.in_place(CCall(f"fitml_{name}_s16", "fitml_logistic_s16_params",
                     dict(size=x.size, input_multiplier=mult, input_left_shift=shift,
                          table=table), cparams.io(node)), node)
    mult, shift, radius = q4_input_params(x.quant.s)
    return cparams.in_place(CCall(f"fitml_{name}_s8", f"fitml_{name}_s8_params",
                 dict(size=x.size, input_zp=x.quant.zp, input_multiplier=mult,
                      input_shift=shift, input_range_radius=radius), cparams.io(node)), node)


def infer_same(kind: str, ins):
    x = common.need(ins[0], "input", kind)
    if x.dtype not in ("int8", "int16", "float32"):
        raise GraphError(f"{kind}: unsupported input dtype {x.dtype}")
    return [(x.shape, x.dtype)]


def logistic_float(x: np.ndarray) -> np.ndarray:
    """TFLite's reference float logistic, including its cutoffs (exp(x) below -9)."""
    x = np.asarray(x, np.float32)
    with np.errstate(over="ignore"):
        mid = np.float32(1) / (np.float32(1) + np.exp(-x))
    out = np.where(x > FLOAT_CUTOFF_UPPER, np.float32(1),
                   np.where(x < FLOAT_CUTOFF_LOWER, np.exp(np.minimum(x, 0)), mid))
    return out.astype(np.float32)


@register
class Logistic(OpDef):
    kind = "LOGISTIC"
    signature = staticmethod(input_filter_dtypes)     # int8: a table where it pays (lut_lowering)
    own_dtypes = (("float32", "none"), ("int8", "none"), ("int16", "none"))

    @staticmethod
    def infer(op, ins):
        return infer_same("LOGISTIC", ins)

    @staticmethod
    def check(op, ins, outs):
        check_int8_io("LOGISTIC", ins, outs)
        if outs[0].dtype == "int8" and common.qparams(outs[0])[1] != -128:
            raise GraphError(f"LOGISTIC: int8 output zero point must be -128, "
                             f"got {outs[0].quant.zp}")

    @staticmethod
    def reference(node: Node, args):
        if not node.quantized:
            return [logistic_float(args[0])]
        if node.ins[0].dtype == "int16":
            params = nl.q3_input_params("LOGISTIC", node.ins[0].quant.s)
            return [nl.logistic_s16(args[0], *params)]
        x, a, radius = rescale_q4(args[0], node)
        y = gl.logistic(a, INPUT_INTEGER_BITS)
        inside = np.clip(fp.rdbpot(y, 31 - 8) - 128, -128, 127)
        return [saturate(x, radius, inside)]

    @staticmethod
    def lower_c(node: Node):
        return lower_q4(node)
