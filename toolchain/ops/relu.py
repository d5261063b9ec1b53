"""RELU: max(x, 0). Quantized (int8; int16 with zero points 0) it is a requantization.

TFLM (activations_common.cc CalculateReluOpData, ReluQuantized): (M, shift) from
(double)s_in/(double)s_out, out = clamp(MBQM(q - zp_in) + zp_out, max(qmin, zp_out), qmax).
"""
from __future__ import annotations

import numpy as np

from ..lowering import cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from . import broadcast, common
from .quantize import limits, requantize_codes, requantize_multiplier
from .opdef import OpDef
from .registry import Node, register

DTYPES = ("float32", "int8", "int16")


def unary_infer(kind: str, ins) -> list:
    """Same shape and dtype as the single input, for a float32/int8/int16 activation."""
    x = common.need(ins[0] if ins else None, "input", kind)
    if x.dtype not in DTYPES:
        raise GraphError(f"{kind}: dtype {x.dtype} not supported (supported: "
                         f"{', '.join(DTYPES)})")
    return [(x.shape, x.dtype)]


def unary_check(kind: str, ins, outs) -> None:
    """Quantized: per-tensor params on input and output; int16 needs zero points 0."""
    if ins[0].dtype == "float32":
        return
    broadcast.check_per_tensor(kind, (ins[0], outs[0]))
    if ins[0].dtype == "int16" and (ins[0].quant.zp or outs[0].quant.zp):
        raise GraphError(f"{kind}: int16 input and output need zero point 0")


def relu_bounds(out) -> tuple[int, int]:
    """Clamp of quantized RELU: [max(qmin, zp_out), qmax] in the output's codes."""
    qmin, qmax = limits(out.dtype)
    return max(qmin, common.qparams(out)[1]), qmax


@register
class Relu(OpDef):
    kind = "RELU"
    tflite_options = None

    @staticmethod
    def infer(op, ins):
        return unary_infer("RELU", ins)

    @staticmethod
    def check(op, ins, outs):
        unary_check("RELU", ins, outs)

    @staticmethod
    def reference(node: Node, args):
        x, out = node.ins[0], node.outs[0]
        if x.dtype == "float32":
            return [np.maximum(args[0], np.float32(0)).astype(np.float32)]
        (s_in, zp_in), (s_out, zp_out) = common.qparams(x), common.qparams(out)
        q = requantize_codes(args[0], zp_in, s_in, s_out, zp_out, *relu_bounds(out))
        return [q.astype(out.dtype)]

    @staticmethod
    def lower_c(node: Node):
        x, out = node.ins[0], node.outs[0]
        if x.dtype == "float32":
            return cparams.in_place(CCall("fitml_relu_f32", "fitml_clamp_f32_params",
                         dict(size=x.size, act_min=0.0, act_max=cparams.FLT_MAX),
                         cparams.io(node)), node)
        mult, shift = requantize_multiplier(common.qparams(x)[0], common.qparams(out)[0])
        kernel = "fitml_relu_s8" if x.dtype == "int8" else "fitml_requantize_s16"
        return cparams.requantize_call(node, kernel, mult, shift, *relu_bounds(out))
