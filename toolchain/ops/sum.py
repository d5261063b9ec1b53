"""SUM over the axes held by a constant int32 tensor; keep_dims from ReducerOptions.

float32 adds in TFLM's order (row-major over the reduced elements). int8 and int16 follow TFLM's
QuantizedMeanOrSum with compute_sum: the wrapping int32 raw sum minus zp_in * n, requantized
with s_in / s_out (no 1/n), + zp_out, clamped. No fused activation.
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..lowering.ccall import CCall
from ..lowering import cparams
from . import common, reduction
from .mean import resolve_axes
from .opdef import OpDef
from .registry import Node, register

DTYPES = ("float32", "int8", "int16")


@register
class Sum(OpDef):
    kind = "SUM"
    tflite_options = "ReducerOptions"
    attrs_from_tflite = staticmethod(reduction.keep_dims_from_tflite)
    attrs_to_tflite = staticmethod(reduction.keep_dims_to_tflite)

    @staticmethod
    def infer(op, ins):
        return reduction.infer_reduced("SUM", op, ins, DTYPES)

    @staticmethod
    def reference(node: Node, args):
        x, shape = np.asarray(args[0]), node.outs[0].shape
        if not node.quantized:
            return [reduction.fold(node, x.astype(np.float32), 0, np.add).reshape(shape)]
        axes = resolve_axes(node.ins)
        n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        (s_in, zp_in), (s_out, zp_out) = common.qparams(node.ins[0]), common.qparams(node.outs[0])
        mult, shift = fp.quantize_multiplier(float(s_in) / float(s_out))
        total = fp.wrap32(np.sum(x, axis=axes, dtype=np.int64))
        out = fp.mbqm(fp.wrap32(total - zp_in * n), mult, shift) + zp_out
        dtype = np.dtype(node.outs[0].dtype)
        info = np.iinfo(dtype)
        return [np.clip(out, info.min, info.max).astype(dtype).reshape(shape)]

    @staticmethod
    def lower_c(node: Node):
        fields = reduction.walks(node)
        if not node.quantized:
            return CCall("fitml_sum_f32", "fitml_reduce_params", fields, cparams.io(node))
        x, out = node.ins[0], node.outs[0]
        mult, shift = fp.quantize_multiplier(float(x.quant.s) / float(out.quant.s))
        suffix = "s16" if x.dtype == "int16" else "s8"
        return CCall(f"fitml_sum_{suffix}", "fitml_mean_s8_params",
                     dict(fields, input_zp=x.quant.zp, output_zp=out.quant.zp,
                          multiplier=mult, shift=shift), cparams.io(node))
