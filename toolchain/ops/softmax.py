"""SOFTMAX over the last axis: float32, or int8 -> int8 with TFLM's gemmlowp fixed-point exp.

int8 follows TFLM's reference kernel (no lookup table): inputs minus the row max are scaled by
beta * s_in into Q5.26, exponentiated, summed in Q12.19 and multiplied by a fixed-point
reciprocal. The output must be quantized with scale 1/256 and zero point -128, as TFLM's
Prepare demands. int16 -> int16 follows TFLM's SoftmaxInt16 (two interpolated 513-entry
tables, ops/int16_softmax.py); its output scale is 1/32768, zero point 0.
"""
from __future__ import annotations

import math

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..lowering.ccall import CArray, CCall
from ..ir import GraphError
from ..arith import fixedpoint as fp
from ..arith import gemmlowp as gl
from . import common
from . import int16_softmax as sm
from .opdef import OpDef
from .registry import Node, register

SCALED_DIFF_INTEGER_BITS = 5     # input differences live in Q5.26
ACCUM_INTEGER_BITS = 12          # the sum of exps lives in Q12.19


def int8_params(beta: float, s_in: float) -> tuple[int, int, int]:
    """(multiplier M, left shift L, diff_min) as TFLM's PreprocessSoftmaxScaling computes them."""
    real = min(float(np.float32(beta)) * s_in * (1 << (31 - SCALED_DIFF_INTEGER_BITS)),
               float((1 << 31) - 1))
    if not real > 1.0:
        raise GraphError(f"SOFTMAX: beta * input scale * 2^26 = {real} must exceed 1")
    mult, shift = fp.quantize_multiplier(real)
    radius = ((1 << SCALED_DIFF_INTEGER_BITS) - 1) * (1 << (31 - SCALED_DIFF_INTEGER_BITS))
    diff_min = -math.floor(radius / 2.0 ** shift)
    return mult, shift, diff_min


def exps_and_sums(q: np.ndarray, beta: float, s_in: float):
    """(live mask, Q0.31 exp of each scaled difference, Q12.19 sum of exps per row)."""
    mult, shift, diff_min = int8_params(beta, s_in)
    x = q.astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    live = diff >= diff_min
    scaled = fp.srdhm(fp.wrap32(diff << shift), mult)
    exps = gl.exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS)
    terms = np.where(live, fp.rdbpot(exps, ACCUM_INTEGER_BITS), 0)
    return live, exps, fp.wrap32(terms.sum(axis=-1, keepdims=True))


def softmax_int8(q: np.ndarray, beta: float, s_in: float) -> np.ndarray:
    """TFLM reference int8 softmax along the last axis (output zp -128, scale 1/256).

    A row whose sum of exps reaches 512.0 (2^28 in Q12.19) needs a final shift of 32 or more:
    TFLM's RoundingDivideByPOT asserts (aborts) there. This reference keeps rounding the exact
    way (an int64 shift), which gives round(256 * p) - 128.
    """
    live, exps, total = exps_and_sums(q, beta, s_in)
    recip, bits_over_unit = gl.get_reciprocal(total, ACCUM_INTEGER_BITS)
    out = fp.rdbpot(fp.srdhm(recip, exps), bits_over_unit + 31 - 8) - 128
    return np.where(live, np.clip(out, -128, 127), -128).astype(np.int8)


def softmax_float(x: np.ndarray, beta: float) -> np.ndarray:
    """exp(beta * (x - max)) / sum, in float32 like TFLite's reference kernel."""
    x = np.asarray(x, np.float32)
    e = np.exp((x - x.max(axis=-1, keepdims=True)) * np.float32(beta))
    return (e / e.sum(axis=-1, keepdims=True, dtype=np.float32)).astype(np.float32)


@register
class Softmax(OpDef):
    kind = "SOFTMAX"
    tflite_options = "SoftmaxOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0], "input", "SOFTMAX")
        if x.dtype not in ("int8", "int16", "float32"):
            raise GraphError(f"SOFTMAX: unsupported input dtype {x.dtype}")
        if not x.shape:
            raise GraphError("SOFTMAX: input must have at least one dimension")
        return [(x.shape, x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype == "int16":
            common.qparams(ins[0])
            return sm.check_softmax_output(outs[0])
        if ins[0].dtype != "int8":
            return
        s_out, zp_out = common.qparams(outs[0])
        if zp_out != -128 or np.float32(s_out) != np.float32(1.0 / 256):
            raise GraphError(f"SOFTMAX: int8 output must have scale 1/256 and zero point -128, "
                             f"got scale {s_out} zero point {zp_out}")
        int8_params(op.attr("beta", 1.0), common.qparams(ins[0])[0])

    @staticmethod
    def reference(node: Node, args):
        beta = node.attr("beta", 1.0)
        if node.ins[0].dtype == "int16":
            return [sm.softmax_s16(args[0], beta, common.qparams(node.ins[0])[0])]
        if node.quantized:
            return [softmax_int8(args[0], beta, common.qparams(node.ins[0])[0])]
        return [softmax_float(args[0], beta)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(beta=float(common.options_get(o, "beta", 1.0)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.SoftmaxOptionsT()
        o.beta = float(attrs.get("beta", 1.0))
        return o

    @staticmethod
    def lower_c(node: Node):
        x = node.ins[0]
        depth = x.shape[-1]
        rows = x.size // depth if depth else 0
        beta = node.attr("beta", 1.0)
        if not node.quantized:
            return CCall("fitml_softmax_f32", "fitml_softmax_f32_params",
                         dict(rows=rows, depth=depth, beta=float(beta)), cparams.io(node))
        if x.dtype == "int16":
            mult, shift = sm.softmax_params(beta, x.quant.s)
            luts = {k: CArray(f(), "int16_t", role="weights")
                    for k, f in (("exp_lut", sm.exp_lut), ("recip_lut", sm.recip_lut))}
            return CCall("fitml_softmax_s16", "fitml_softmax_s16_params",
                         dict(rows=rows, depth=depth, input_multiplier=mult,
                              input_left_shift=shift, **luts), cparams.io(node))
        mult, shift, diff_min = int8_params(beta, x.quant.s)
        return CCall("fitml_softmax_s8", "fitml_softmax_s8_params",
                     dict(rows=rows, depth=depth, input_multiplier=mult,
                          input_left_shift=shift, diff_min=diff_min), cparams.io(node))
