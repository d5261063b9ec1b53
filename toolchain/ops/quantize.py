"""QUANTIZE: float32 -> int8/uint8/int16, or integer -> integer requantization.

The output dtype cannot be inferred from the input, so it is the attr `dtype` (reader: fill it
from the output tensor, see `Quantize.output_dtype_attr`); absent, it is int8 (int16 for an
int16 input). Arithmetic per TFLM quantize_common.cc / reference quantize.h, requantize.h:
- float: q = clamp(roundf(v / (float)s_out) + zp_out), float32 division, half away from zero;
- integer: q = clamp(MBQM(q - zp_in, M, shift) + zp_out), (M, shift) from (double)s_in/s_out.
TFLM's XOR-0x80 fast path (int8 <-> uint8, equal scales, zero points 128 apart) gives the same
codes as the general path, whose multiplier is then exactly the identity.
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

CONVERSIONS = {"float32": ("int8", "uint8", "int16"), "int8": ("int8", "uint8", "int16", "int32"),
               "uint8": ("int8", "uint8"), "int16": ("int8", "int16", "int32"),
               "int32": ("int8", "int16")}


def limits(dtype: str) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def quantize_float(v: np.ndarray, scale: float, zp: int, dtype: str) -> np.ndarray:
    """AffineQuantize: roundf(v / (float)scale) + zp, clamped (out-of-int32 values saturate)."""
    r = np.asarray(v, np.float32) / np.float32(scale)
    r = np.nan_to_num(fp.round_half_away(r), nan=0.0)  # NaN / int32 overflow: UB in C
    q = np.clip(r, fp.INT32_MIN, fp.INT32_MAX).astype(np.int64) + zp
    return np.clip(q, *limits(dtype)).astype(dtype)


def requantize_multiplier(s_in: float, s_out: float) -> tuple[int, int]:
    """(M, shift) of an integer requantization: QuantizeMultiplier((double)s_in / s_out)."""
    return fp.quantize_multiplier(float(s_in) / float(s_out))


def requantize_codes(q: np.ndarray, zp_in: int, s_in: float, s_out: float, zp_out: int,
                     lo: int, hi: int) -> np.ndarray:
    """Requantize: clamp(MBQM(q - zp_in, M, shift) + zp_out, lo, hi) as int64."""
    mult, shift = requantize_multiplier(s_in, s_out)
    out = fp.wrap32(fp.mbqm(fp.wrap32(fp.i64(q) - zp_in), mult, shift) + zp_out)
    return np.clip(out, lo, hi)


def output_dtype(op, x) -> str:
    return op.attr("dtype") or ("int16" if x.dtype == "int16" else "int8")


@register
class Quantize(OpDef):
    kind = "QUANTIZE"
    uint8_ok = True
    tflite_options = None
    output_dtype_attr = "dtype"  # attr a reader sets from the output tensor's dtype

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "QUANTIZE")
        out = output_dtype(op, x)
        if out not in CONVERSIONS.get(x.dtype, ()):
            raise GraphError(f"QUANTIZE: {x.dtype} -> {out} not supported (supported: "
                             + ", ".join(f"{a} -> {b}" for a, bs in CONVERSIONS.items()
                                         for b in bs) + ")")
        return [(x.shape, out)]

    @staticmethod
    def check(op, ins, outs):
        tensors = (outs[0],) if ins[0].dtype == "float32" else (ins[0], outs[0])
        broadcast.check_per_tensor("QUANTIZE", tensors)

    @staticmethod
    def reference(node: Node, args):
        x, out = node.ins[0], node.outs[0]
        s_out, zp_out = common.qparams(out)
        if x.dtype == "float32":
            return [quantize_float(args[0], s_out, zp_out, out.dtype)]
        s_in, zp_in = common.qparams(x)
        q = requantize_codes(args[0], zp_in, s_in, s_out, zp_out, *limits(out.dtype))
        return [q.astype(out.dtype)]

    @staticmethod
    def lower_c(node: Node):
        """fitml_quantize_f32_<out>, or fitml_requantize_<in>_<out> (<in> alone for one
        dtype) between int8, uint8, int16 and int32."""
        x, out = node.ins[0], node.outs[0]
        suffix = {"int8": "s8", "uint8": "u8", "int16": "s16", "int32": "s32"}
        float_out = ("int8", "int16")
        if out.dtype not in suffix or x.dtype not in ("float32", *suffix) or \
                (x.dtype == "float32" and out.dtype not in float_out):
            raise cparams.unsupported(node, f"{x.dtype} -> {out.dtype} (C kernels: float32 -> "
                                      "int8 / int16, and the integer requantizations)")
        s_out, zp_out = common.qparams(out)
        if x.dtype == "float32":
            return CCall(f"fitml_quantize_f32_{suffix[out.dtype]}", "fitml_affine_params",
                         dict(size=x.size, scale=s_out, zero_point=zp_out), cparams.io(node))
        mult, shift = requantize_multiplier(common.qparams(x)[0], s_out)
        name = suffix[x.dtype] if x.dtype == out.dtype else \
            f"{suffix[x.dtype]}_{suffix[out.dtype]}"
        return cparams.requantize_call(node, f"fitml_requantize_{name}", mult, shift,
                                       *limits(out.dtype))
