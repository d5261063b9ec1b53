"""LEAKY_RELU: x for x >= 0, alpha * x below (float32 or int8; int16: ops/int16_leaky_relu.py).

int8 per TFLM (leaky_relu_common.cc, reference QuantizeLeakyRelu): two multipliers from
float32 quotients, identity s_in / s_out and alpha s_in * alpha / s_out (alpha may be negative
or above 1); q - zp_in >= 0 takes the identity one; + zp_out, clamp.
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


def multipliers(s_in: float, s_out: float, alpha: float):
    """((M, shift) identity, (M, shift) alpha), quotients evaluated in float32."""
    s_in, s_out, alpha = np.float32(s_in), np.float32(s_out), np.float32(alpha)
    return (fp.quantize_multiplier(float(s_in / s_out)),
            fp.quantize_multiplier(float(s_in * alpha / s_out)))


def int8_params(node: Node):
    """((zp_in, zp_out), multipliers) of an int8 LEAKY_RELU node: reference and C share it."""
    (s_in, zp_in), (s_out, zp_out) = common.qparams(node.ins[0]), common.qparams(node.outs[0])
    return (zp_in, zp_out), multipliers(s_in, s_out, node.attr("alpha", 0.2))


@register
class LeakyRelu(OpDef):
    kind = "LEAKY_RELU"
    tflite_options = "LeakyReluOptions"
    signature = staticmethod(input_filter_dtypes)     # (input, "none"); int16: a @variant
    own_dtypes = (("float32", "none"), ("int8", "none"))

    @staticmethod
    def infer(op, ins):
        return infer_same("LEAKY_RELU", ins)

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype != outs[0].dtype:
            raise GraphError(f"LEAKY_RELU: input {ins[0].dtype} but output {outs[0].dtype}")
        if ins[0].dtype not in ("float32", "int8", "int16"):
            raise GraphError(f"LEAKY_RELU: {ins[0].dtype} input not supported (supported: "
                             "float32, int8, int16)")
        if ins[0].dtype != "float32":
            for t in (ins[0], outs[0]):
                common.qparams(t)

    @staticmethod
    def reference(node: Node, args):
        alpha = node.attr("alpha", 0.2)
        if not node.quantized:
            x = np.asarray(args[0], np.float32)
            return [np.where(x > 0, x, x * np.float32(alpha)).astype(np.float32)]
        (zp_in, zp_out), ((m_id, e_id), (m_a, e_a)) = int8_params(node)
        v = fp.i64(args[0]) - zp_in
        out = np.where(v >= 0, fp.mbqm(v, m_id, e_id), fp.mbqm(v, m_a, e_a)) + zp_out
        return [np.clip(out, -128, 127).astype(np.int8)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(alpha=float(common.options_get(o, "alpha", 0.2)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.LeakyReluOptionsT()
        o.alpha = float(attrs.get("alpha", 0.2))
        return o

    @staticmethod
    def lower_c(node: Node):
        """fitml_leaky_relu_f32 (alpha as float32), or the int8 kernel's two multipliers."""
        x = node.ins[0]
        if not node.quantized:
            return CCall("fitml_leaky_relu_f32", "fitml_leaky_relu_f32_params",
                         dict(size=x.size, alpha=float(np.float32(node.attr("alpha", 0.2)))),
                         cparams.io(node))
        (zp_in, zp_out), ((m_id, e_id), (m_a, e_a)) = int8_params(node)
        return CCall("fitml_leaky_relu_s8", "fitml_leaky_relu_s8_params",
                     dict(size=x.size, input_zp=zp_in, output_zp=zp_out,
                          identity_multiplier=m_id, identity_shift=e_id,
                          alpha_multiplier=m_a, alpha_shift=e_a), cparams.io(node))
