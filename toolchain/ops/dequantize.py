"""DEQUANTIZE: int8 / uint8 / int16 -> float32 as (float)((double)s * (q - zp)).

That is the correctly rounded float32 product, so per-channel parameters (TFLite's
PerChannelDequantize, float math) give the same values; both are supported.
"""
from __future__ import annotations

import numpy as np

from ..lowering import cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from . import common
from .opdef import OpDef
from .registry import Node, register

DTYPES = ("int8", "uint8", "int16")


@register
class Dequantize(OpDef):
    kind = "DEQUANTIZE"
    uint8_ok = True
    tflite_options = None

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "DEQUANTIZE")
        if x.dtype not in DTYPES:
            raise GraphError(f"DEQUANTIZE: input dtype {x.dtype} not supported "
                             f"(supported: {', '.join(DTYPES)})")
        return [(x.shape, "float32")]

    @staticmethod
    def check(op, ins, outs):
        if ins[0].quant is None:
            raise GraphError(f"DEQUANTIZE: input {ins[0].name!r} has no quantization")

    @staticmethod
    def reference(node: Node, args):
        x, q = node.ins[0], node.ins[0].quant
        scale = q.scale.astype(np.float64)
        zp = np.broadcast_to(q.zero_point, scale.shape)
        if q.per_channel:
            shape = [1] * len(x.shape)
            shape[q.axis] = -1
            scale, zp = scale.reshape(shape), zp.reshape(shape)
        else:
            scale, zp = scale[0], zp[0]
        value = scale * (np.asarray(args[0], np.int64) - zp)
        return [value.astype(np.float32)]

    @staticmethod
    def lower_c(node: Node):
        x = node.ins[0]
        if x.dtype not in ("int8", "int16") or x.quant.per_channel:
            raise cparams.unsupported(node, "the C kernels take per-tensor int8 / int16 only")
        kernel = "fitml_dequantize_s8_f32" if x.dtype == "int8" else "fitml_dequantize_s16_f32"
        return CCall(kernel, "fitml_affine_params",
                     dict(size=x.size, scale=x.quant.s, zero_point=x.quant.zp),
                     cparams.io(node))
