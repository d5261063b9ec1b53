"""PRELU: x for x >= 0, alpha * x below, alpha an input broadcast against x (per channel from
Keras PReLU), as TFLM's prelu.cc (float32, int8; up to rank 4).

int8: two multipliers from double quotients, identity s_in / s_out and alpha
s_in * s_alpha / s_out; (q - zp_in) >= 0 takes the identity one, else (q - zp_in) *
(a - zp_alpha) takes the alpha one; + zp_out, clamp (TFLM's BroadcastPrelu4DSlow).
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .broadcast import broadcast_shape, check_per_tensor
from .opdef import OpDef
from .registry import Node, register

DTYPES = ("float32", "int8")


def int8_params(node: Node) -> dict:
    """Offsets and the two (multiplier, shift) pairs of an int8 PRELU: reference and C."""
    (s_in, zp_in), (s_a, zp_a), (s_out, zp_out) = (common.qparams(t) for t in
                                                   (node.ins[0], node.ins[1], node.outs[0]))
    m1, e1 = fp.quantize_multiplier(float(s_in) / float(s_out))
    m2, e2 = fp.quantize_multiplier(float(s_in) * float(s_a) / float(s_out))
    return dict(input_offset=-zp_in, alpha_offset=-zp_a, output_offset=zp_out,
                multiplier_1=m1, shift_1=e1, multiplier_2=m2, shift_2=e2)


@register
class Prelu(OpDef):
    kind = "PRELU"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "PRELU")
        alpha = common.need(ins[1] if len(ins) > 1 else None, "alpha", "PRELU")
        if x.dtype not in DTYPES or alpha.dtype != x.dtype:
            raise GraphError(f"PRELU: {x.dtype} input with {alpha.dtype} alpha is not "
                             f"supported (TFLite Micro takes {' or '.join(DTYPES)} for both)")
        return [(broadcast_shape(x.shape, alpha.shape, "PRELU", max_rank=4), x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype == "int8":
            check_per_tensor("PRELU", [ins[0], ins[1], outs[0]])

    @staticmethod
    def reference(node: Node, args):
        x, alpha = np.asarray(args[0]), np.asarray(args[1])
        shape = node.outs[0].shape
        if not node.quantized:
            return [np.where(x >= 0, x, x * alpha).astype(np.float32).reshape(shape)]
        p = int8_params(node)
        v = fp.i64(x) + p["input_offset"]
        a = fp.i64(alpha) + p["alpha_offset"]
        out = np.where(v >= 0, fp.mbqm(v, p["multiplier_1"], p["shift_1"]),
                       fp.mbqm(v * a, p["multiplier_2"], p["shift_2"])) + p["output_offset"]
        return [np.clip(out, -128, 127).astype(np.int8).reshape(shape)]

    @staticmethod
    def lower_c(node: Node):
        bc = dict(bc=cparams.broadcast(node))
        if not node.quantized:
            return CCall("fitml_prelu_f32", "fitml_broadcast_params", bc,
                         cparams.binary_io(node))
        return CCall("fitml_prelu_s8", "fitml_prelu_s8_params", dict(bc, **int8_params(node)),
                     cparams.binary_io(node))
