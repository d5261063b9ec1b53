"""LEAKY_RELU int16 as TFLite Micro runs it (leaky_relu.cc Eval, kTfLiteInt16 case).

TFLM's reference QuantizeLeakyRelu is one template over int8 and int16: the same two
multipliers from Prepare (ops/leaky_relu.py `int8_params`), the same 32-bit MBQM of q - zp_in,
only the final clamp is the int16 range.
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..lowering import cparams
from ..lowering.ccall import CCall
from .leaky_relu import int8_params
from .registry import INT16, Node, variant


@variant("LEAKY_RELU", INT16, "reference")
def leaky_relu_reference(node: Node, args) -> list[np.ndarray]:
    """LEAKY_RELU int16: identity multiplier for q - zp_in >= 0, alpha one below, clamp."""
    (zp_in, zp_out), ((m_id, e_id), (m_a, e_a)) = int8_params(node)
    v = fp.i64(args[0]) - zp_in
    out = np.where(v >= 0, fp.mbqm(v, m_id, e_id), fp.mbqm(v, m_a, e_a)) + zp_out
    return [np.clip(out, -32768, 32767).astype(np.int16)]


@variant("LEAKY_RELU", INT16, "lower_c")
def leaky_relu(node: Node) -> CCall:
    """fitml_leaky_relu_s16: the int8 kernel's parameters, int16 data."""
    (zp_in, zp_out), ((m_id, e_id), (m_a, e_a)) = int8_params(node)
    return CCall("fitml_leaky_relu_s16", "fitml_leaky_relu_s8_params",
                 dict(size=node.ins[0].size, input_zp=zp_in, output_zp=zp_out,
                      identity_multiplier=m_id, identity_shift=e_id,
                      alpha_multiplier=m_a, alpha_shift=e_a), cparams.io(node))
