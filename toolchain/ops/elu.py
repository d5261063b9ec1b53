"""ELU (alpha 1, as TFLite): x < 0 ? exp(x) - 1 : x element-wise; float32 and int8 (TFLM elu.cc).

float32 is reference_ops::Elu, expm1f per element: the reference evaluates expm1 in double and
rounds once (the correctly rounded value, within an ulp of any libm's expm1f).
int8 is TFLM's 256-entry table, built in float32 from the input code: x = s_in * (q - zp_in),
y = expf(x) - 1 for x < 0, round(y * (1 / s_out)) half away from zero, + zp_out, clamped. The
result depends on q alone: int8 lowers to the table kernel (ops/lut_lowering.py).
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..ir import GraphError
from . import broadcast, common
from .float_unary import FloatUnaryBase
from .registry import Node, input_filter_dtypes, register

CODES = np.arange(-128, 128, dtype=np.int32)


def elu_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return np.where(x < 0, np.expm1(x.astype(np.float64)).astype(np.float32), x)


def elu_table(s_in: float, zp_in: int, s_out: float, zp_out: int) -> np.ndarray:
    """The int8 output for each input code -128..127, in TFLM's float32 steps."""
    x = np.float32(s_in) * (CODES - zp_in).astype(np.float32)
    expo = np.exp(x.astype(np.float64)).astype(np.float32)      # expf, correctly rounded
    y = np.where(x < 0, expo - np.float32(1), x).astype(np.float32)
    inverse = np.float32(1) / np.float32(s_out)
    rescaled = fp.round_half_away((y * inverse).astype(np.float32)).astype(np.float32)
    q = (rescaled + np.float32(zp_out)).astype(np.float32)
    return np.clip(np.trunc(q), -128, 127).astype(np.int8)


@register
class Elu(FloatUnaryBase):
    kind = "ELU"
    DTYPES = ("float32", "int8")
    signature = staticmethod(input_filter_dtypes)     # int8: the table kernel (lut_lowering)
    own_dtypes = (("float32", "none"),)
    FUNC = staticmethod(elu_float)

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype != outs[0].dtype:
            raise GraphError(f"ELU: input {ins[0].dtype} but output {outs[0].dtype}")
        if ins[0].dtype == "int8":
            broadcast.check_per_tensor("ELU", (ins[0], outs[0]))

    @classmethod
    def reference(cls, node: Node, args):
        if node.ins[0].dtype == "float32":
            return super().reference(node, args)
        (s_in, zp_in), (s_out, zp_out) = common.qparams(node.ins[0]), common.qparams(node.outs[0])
        table = elu_table(s_in, zp_in, s_out, zp_out)
        return [table[np.asarray(args[0], np.int64) + 128]]
