"""HARD_SWISH: x * relu6(x + 3) / 6, float32 or int8.

int8 is TFLM's reference_ops::HardSwish (hard_swish.h, prepared in hard_swish_common.cc): all
int16 fixed point. The input moves to a "hires" scale (x << 7); one int16 multiplier takes it
to the output scale, another maps [-3, 3] onto [-1, 1] (the "reluish" factor, saturating),
which then becomes [0, 1] and multiplies the first without rounding (SaturatingDoublingHighMul).
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from ..arith import fixedpoint as fp
from . import common
from .logistic import infer_same
from .opdef import OpDef
from .registry import Node, input_filter_dtypes, register

I16_MIN, I16_MAX = -(1 << 15), (1 << 15) - 1


def int16_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier, then DownScaleInt32ToInt16Multiplier: (M16, exponent)."""
    m32, exponent = fp.quantize_multiplier(real)
    if m32 >= fp.INT32_MAX - (1 << 15):
        return I16_MAX, exponent
    return (m32 + (1 << 15)) >> 16, exponent


def params(s_in: float, s_out: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """((output M16, exponent), (reluish M16, exponent)), quotients in float32 as in TFLM."""
    hires = np.float32(1.0 / 128.0) * np.float32(s_in)
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    return (int16_multiplier(float(np.float32(hires / np.float32(s_out)))),
            int16_multiplier(float(np.float32(hires / reluish_scale))))


def _trunc_div(x: np.ndarray, d: int) -> np.ndarray:
    """C integer division (rounds toward zero)."""
    return np.sign(x) * (np.abs(x) // d)


def srdhm16(a, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int16."""
    a, b = fp.i64(a), fp.i64(b)
    ab = a * b
    out = _trunc_div(ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14)), 1 << 15)
    return np.where((a == b) & (a == I16_MIN), I16_MAX, out)


def sdhm16(a, b) -> np.ndarray:
    """SaturatingDoublingHighMul: like srdhm16 but truncating (no rounding nudge)."""
    a, b = fp.i64(a), fp.i64(b)
    return np.where((a == b) & (a == I16_MIN), I16_MAX, _trunc_div(a * b, 1 << 15))


def sat_shl16(x, amount: int) -> np.ndarray:
    return np.clip(fp.i64(x) * (1 << amount), I16_MIN, I16_MAX)


def hard_swish_int8(q: np.ndarray, zp_in: int, zp_out: int, s_in: float,
                    s_out: float) -> np.ndarray:
    (out_m, out_e), (rel_m, rel_e) = params(s_in, s_out)
    hires = (fp.i64(q) - zp_in) * (1 << 7)
    preshift = srdhm16(hires, out_m)
    rel = sat_shl16(hires, rel_e - 1) if rel_e > 0 else hires
    rel = srdhm16(rel, rel_m)
    if rel_e > 0:
        rel = sat_shl16(rel, 1)
    elif rel_e < 0:
        rel = fp.rdbpot(rel, -rel_e)
    rel = (rel + (1 << 15)) >> 1
    out = fp.rdbpot(sdhm16(rel, preshift), -out_e) + zp_out
    return np.clip(out, -128, 127).astype(np.int8)


@register
class HardSwish(OpDef):
    kind = "HARD_SWISH"
    tflite_options = "HardSwishOptions"
    signature = staticmethod(input_filter_dtypes)     # int8: a table where it pays (lut_lowering)
    own_dtypes = (("float32", "none"), ("int8", "none"))

    @staticmethod
    def infer(op, ins):
        return infer_same("HARD_SWISH", ins)

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype != outs[0].dtype:
            raise GraphError(f"HARD_SWISH: input {ins[0].dtype} but output {outs[0].dtype}")
        if ins[0].dtype not in ("float32", "int8"):
            raise GraphError(f"HARD_SWISH: {ins[0].dtype} input not supported (supported: "
                             "float32, int8, as in TFLite Micro)")
        if ins[0].dtype != "int8":
            return
        (_, out_e), _ = params(common.qparams(ins[0])[0], common.qparams(outs[0])[0])
        if out_e > 0:
            raise GraphError("HARD_SWISH: output scale must be at least input scale / 128 "
                             "(TFLM requires a right-shifting output multiplier)")

    @staticmethod
    def reference(node: Node, args):
        if not node.quantized:
            x = np.asarray(args[0], np.float32)
            relu6 = np.minimum(np.float32(6), np.maximum(np.float32(0), x + np.float32(3)))
            return [(x * relu6 / np.float32(6)).astype(np.float32)]
        (s_in, zp_in), (s_out, zp_out) = common.qparams(node.ins[0]), common.qparams(node.outs[0])
        return [hard_swish_int8(args[0], zp_in, zp_out, s_in, s_out)]

    @staticmethod
    def attrs_to_tflite(attrs):
        return schema.HardSwishOptionsT()

    @staticmethod
    def lower_c(node: Node):
        """fitml_hard_swish_f32, or the int8 kernel with the multipliers `params` derives."""
        x = node.ins[0]
        if not node.quantized:
            return CCall("fitml_hard_swish_f32", "fitml_size_params", dict(size=x.size),
                         cparams.io(node))
        (s_in, zp_in), (s_out, zp_out) = common.qparams(x), common.qparams(node.outs[0])
        (out_m, out_e), (rel_m, rel_e) = params(s_in, s_out)
        return CCall("fitml_hard_swish_s8", "fitml_hard_swish_s8_params",
                     dict(size=x.size, input_zp=zp_in, output_zp=zp_out,
                          output_multiplier=out_m, output_shift=out_e,
                          reluish_multiplier=rel_m, reluish_shift=rel_e), cparams.io(node))
