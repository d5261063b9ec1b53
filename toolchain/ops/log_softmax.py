"""LOG_SOFTMAX over the last axis: float32, or int8 -> int8 with TFLM's gemmlowp fixed point.

int8 per TFLM (log_softmax.cc, reference LogSoftmaxQuantized): differences to the row max are
scaled into Q5.26 by MBQM (beta 1, PreprocessLogSoftmaxScalingExp), their exps summed in
Q12.19 while the difference reaches diff_min, ln(sum) taken in Q5.26; a difference above
max(diff_min - 1, MBQM(ln(sum) + INT32_MIN, reverse scaling)) gives
RDBPOT(scaled - ln(sum), 22) + 127, clamped; the rest -128. The output must be quantized
with scale 16/256 and zero point 127, as TFLM's Prepare demands.
"""
from __future__ import annotations

import math

import numpy as np

from ..arith import fixedpoint as fp
from ..arith import gemmlowp as gl
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

INPUT_INTEGER_BITS = 5          # scaled differences live in Q5.26
ACCUM_INTEGER_BITS = 12         # the sum of exps lives in Q12.19
OUTPUT_INTEGER_BITS = 4
OUTPUT_SCALE, OUTPUT_ZP = 16.0 / 256, 127


def int8_params(s_in: float) -> dict:
    """TFLM's Prepare: input multiplier and left shift, reverse scaling, diff_min."""
    real = min(float(s_in) * (1 << (31 - INPUT_INTEGER_BITS)), float((1 << 31) - 1))
    if not real > 1.0:
        raise GraphError(f"LOG_SOFTMAX: input scale {s_in:g} * 2^26 must exceed 1")
    mult, shift = fp.quantize_multiplier(real)
    reverse, reverse_shift = fp.quantize_multiplier((1 << (31 - shift)) / float(mult))
    radius = ((1 << INPUT_INTEGER_BITS) - 1) * (1 << (31 - INPUT_INTEGER_BITS)) / 2.0 ** shift
    return dict(input_multiplier=mult, input_left_shift=shift, reverse_multiplier=reverse,
                reverse_shift=reverse_shift, diff_min=-math.floor(radius))


def log_softmax_int8(q: np.ndarray, s_in: float) -> np.ndarray:
    """TFLM's reference int8 log softmax along the last axis."""
    p = int8_params(s_in)
    x = fp.i64(q)
    diff = x - x.max(axis=-1, keepdims=True)
    scaled = fp.mbqm(diff, p["input_multiplier"], p["input_left_shift"])
    exps = gl.exp_on_negative_values(scaled, INPUT_INTEGER_BITS)
    terms = np.where(diff >= p["diff_min"], fp.rdbpot(exps, ACCUM_INTEGER_BITS), 0)
    total = fp.wrap32(terms.sum(axis=-1, keepdims=True))
    log_sum = gl.log_x_ge_1(total, INPUT_INTEGER_BITS, ACCUM_INTEGER_BITS)
    floor = fp.mbqm(fp.wrap32(log_sum + fp.INT32_MIN), p["reverse_multiplier"],
                    p["reverse_shift"])
    adjusted = np.maximum(p["diff_min"] - 1, floor)
    bits = 31 - INPUT_INTEGER_BITS - OUTPUT_INTEGER_BITS
    out = fp.rdbpot(fp.wrap32(scaled - log_sum), bits) + 127
    return np.where(diff > adjusted, np.clip(out, -128, 127), -128).astype(np.int8)


def log_softmax_float(x: np.ndarray) -> np.ndarray:
    """x - max - ln(sum(exp(x - max))) per row, in float32 like TFLite's reference."""
    x = np.asarray(x, np.float32)
    shifted = x - x.max(axis=-1, keepdims=True)
    total = np.exp(shifted).sum(axis=-1, keepdims=True, dtype=np.float32)
    return (shifted - np.log(total)).astype(np.float32)


@register
class LogSoftmax(OpDef):
    kind = "LOG_SOFTMAX"
    tflite_options = "LogSoftmaxOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "LOG_SOFTMAX")
        if x.dtype not in ("int8", "float32"):
            raise GraphError(f"LOG_SOFTMAX: dtype {x.dtype} not supported (supported: float32, "
                             "int8)")
        if not x.shape:
            raise GraphError("LOG_SOFTMAX: input must have at least one dimension")
        return [(x.shape, x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype != "int8":
            return
        s_out, zp_out = common.qparams(outs[0])
        if zp_out != OUTPUT_ZP or np.float32(s_out) != np.float32(OUTPUT_SCALE):
            raise GraphError(f"LOG_SOFTMAX: int8 output must have scale 16/256 and zero point "
                             f"127, got scale {s_out:g} zero point {zp_out}")
        int8_params(common.qparams(ins[0])[0])

    @staticmethod
    def reference(node: Node, args):
        if node.ins[0].dtype == "int8":
            return [log_softmax_int8(args[0], common.qparams(node.ins[0])[0])]
        return [log_softmax_float(args[0])]

    @staticmethod
    def lower_c(node: Node):
        x = node.ins[0]
        depth = x.shape[-1]
        rows = x.size // depth if depth else 0
        if x.dtype == "float32":
            return CCall("fitml_log_softmax_f32", "fitml_softmax_f32_params",
                         dict(rows=rows, depth=depth, beta=1.0), cparams.io(node))
        return CCall("fitml_log_softmax_s8", "fitml_log_softmax_s8_params",
                     dict(rows=rows, depth=depth, **int8_params(x.quant.s)), cparams.io(node))

    @staticmethod
    def macs(node):
        return node.outs[0].size
