"""LEAKY_RELU: x for x >= 0, alpha * x below (float32 or int8).

int8 per TFLM (leaky_relu_common.cc, reference QuantizeLeakyRelu): two multipliers from
float32 quotients, identity s_in / s_out and alpha s_in * alpha / s_out (alpha may be negative
or above 1); q - zp_in >= 0 takes the identity one; + zp_out, clamp.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..backends import cparams
from ..ir import GraphError
from ..quant import fixedpoint as fp
from . import common
from .logistic import infer_same
from .registry import Node, OpDef, register


def multipliers(s_in: float, s_out: float, alpha: float):
    """((M, shift) identity, (M, shift) alpha), quotients evaluated in float32."""
    s_in, s_out, alpha = np.float32(s_in), np.float32(s_out), np.float32(alpha)
    return (fp.quantize_multiplier(float(s_in / s_out)),
            fp.quantize_multiplier(float(s_in * alpha / s_out)))


@register
class LeakyRelu(OpDef):
    kind = "LEAKY_RELU"
    tflite_options = "LeakyReluOptions"

    @staticmethod
    def infer(op, ins):
        return infer_same("LEAKY_RELU", ins)

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype != outs[0].dtype:
            raise GraphError(f"LEAKY_RELU: input {ins[0].dtype} but output {outs[0].dtype}")
        if ins[0].dtype == "int8":
            for t in (ins[0], outs[0]):
                common.qparams(t)

    @staticmethod
    def reference(node: Node, args):
        alpha = node.attr("alpha", 0.2)
        if not node.quantized:
            x = np.asarray(args[0], np.float32)
            return [np.where(x > 0, x, x * np.float32(alpha)).astype(np.float32)]
        (s_in, zp_in), (s_out, zp_out) = common.qparams(node.ins[0]), common.qparams(node.outs[0])
        (m_id, e_id), (m_a, e_a) = multipliers(s_in, s_out, alpha)
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
        raise cparams.unsupported(node, "the runtime has no LEAKY_RELU kernel yet")
