"""L2_NORMALIZATION: x / ||x|| over the last axis; float32 and int8 (TFLM l2norm.cc).

float32 is reference_ops::L2Normalization: the squares summed in float32 in axis order,
sqrtf, at least 1e-6, then each value divided by it; every step rounds once, so the reference
is bit-exact. int8 is reference_integer_ops::L2Normalization: acc = sum (q - zp_in)^2 in int32,
GetInvSqrtQuantizedMultiplierExp(acc) (arith/gemmlowp.py), each q - zp_in multiplied by it with
the shift raised by 7 (output scale 1/128, zero point 0, which LiteRT requires and TFLM
assumes), clamped to int8. TFLM requires the fused activation NONE and rank <= 4.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..arith import fixedpoint as fp
from ..arith import gemmlowp as gl
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import broadcast, common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8")
EPSILON = np.float32(1e-6)
OUTPUT_SHIFT = 7


def l2_normalize_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    acc = np.zeros(x.shape[:-1], np.float32)
    for c in range(x.shape[-1]):
        acc = (acc + x[..., c] * x[..., c]).astype(np.float32)
    with np.errstate(all="ignore"):
        norm = np.sqrt(acc).astype(np.float32)
        norm = np.where(norm < EPSILON, EPSILON, norm).astype(np.float32)
        return (x / norm[..., None]).astype(np.float32)


def l2_normalize_int8(q: np.ndarray, zp_in: int) -> np.ndarray:
    v = fp.i64(q) - zp_in
    acc = fp.wrap32((v * v).sum(axis=-1))
    out = np.empty(v.shape, np.int64)
    flat_acc, flat_v, flat_out = acc.reshape(-1), v.reshape(-1, v.shape[-1]), out.reshape(
        -1, v.shape[-1])
    for i, a in enumerate(flat_acc):
        mult, shift = gl.inv_sqrt_multiplier(int(a))
        flat_out[i] = fp.mbqm(flat_v[i], mult, shift + OUTPUT_SHIFT)
    return np.clip(out, -128, 127).astype(np.int8)


@register
class L2Normalization(OpDef):
    kind = "L2_NORMALIZATION"
    tflite_options = "L2NormOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "L2_NORMALIZATION")
        if x.dtype not in DTYPES:
            raise GraphError(f"L2_NORMALIZATION: dtype {x.dtype} not supported (supported: "
                             "float32, int8, as in TFLite Micro)")
        if not 1 <= len(x.shape) <= 4:
            raise GraphError(f"L2_NORMALIZATION: input rank {len(x.shape)} not supported "
                             "(1 to 4, as in TFLite Micro)")
        return [(x.shape, x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        if op.attr("activation", "NONE") != "NONE":
            raise GraphError(f"L2_NORMALIZATION: fused activation {op.attr('activation')} not "
                             "supported (TFLite Micro requires NONE)")
        if ins[0].dtype != "int8":
            return
        broadcast.check_per_tensor("L2_NORMALIZATION", (ins[0], outs[0]))
        s_out, zp_out = common.qparams(outs[0])
        if abs(s_out - 1.0 / 128) > 1e-9 or zp_out != 0:
            raise GraphError(f"L2_NORMALIZATION: int8 output must have scale 1/128 and zero "
                             f"point 0 (TFLite's kernels assume it), got s={s_out:g}, "
                             f"zp={zp_out}")

    @staticmethod
    def reference(node: Node, args):
        if node.ins[0].dtype == "float32":
            return [l2_normalize_float(args[0])]
        return [l2_normalize_int8(args[0], common.qparams(node.ins[0])[1])]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(activation=common.activation_name(
            common.options_get(o, "fusedActivationFunction", 0)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.L2NormOptionsT()
        o.fusedActivationFunction = common.activation_code(attrs.get("activation", "NONE"))
        return o

    @staticmethod
    def lower_c(node: Node):
        """fitml_l2_normalization_<f32|s8> over rows of the last axis."""
        x = node.ins[0]
        depth = x.shape[-1]
        params = dict(outer=x.size // depth if depth else 0, depth=depth)
        if x.dtype == "float32":
            return CCall("fitml_l2_normalization_f32", "fitml_l2_normalization_params",
                         dict(params, input_zp=0), cparams.io(node))
        if x.dtype != "int8":
            raise cparams.unsupported(node)
        return CCall("fitml_l2_normalization_s8", "fitml_l2_normalization_params",
                     dict(params, input_zp=common.qparams(x)[1]), cparams.io(node))

    @staticmethod
    def macs(node):
        return 2 * node.outs[0].size
