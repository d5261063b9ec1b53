"""MEAN over the axes held by a constant int32 tensor; keep_dims from ReducerOptions.

int8 and int16 follow TFLM's QuantizedMeanOrSum: the raw sum minus zp_in * n is requantized with
s_in / s_out, the 1/n factor folded into the multiplier with truncating integer division
(so results may differ by 1 from round(mean)). No fused activation.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..lowering import cparams
from ..lowering.ccall import CCall
from ..ir import GraphError
from ..arith import fixedpoint as fp
from . import common
from .opdef import OpDef
from .registry import Node, register


def resolve_axes(node_ins, kind: str = "MEAN") -> tuple[int, ...]:
    """Reduced axes, negatives resolved, duplicates dropped, sorted."""
    x = common.need(node_ins[0], "input", kind)
    axis_t = node_ins[1] if len(node_ins) > 1 else None
    axes = common.const_ints(axis_t, "axis", kind).reshape(-1)
    rank = len(x.shape)
    if ((axes < -rank) | (axes >= rank)).any():
        raise GraphError(f"{kind}: axes {axes.tolist()} out of range for rank {rank}")
    return tuple(sorted({int(a) % rank for a in axes}))


def mean_multiplier(s_in: float, s_out: float, n: int) -> tuple[int, int]:
    """(M, shift) with 1/n folded in: M = (M0 << k) // n, shift = s0 - k."""
    m0, s0 = fp.quantize_multiplier(float(s_in) / float(s_out))
    k = min(n.bit_length() - 1, 32, 31 + s0)
    return (m0 << k) // n, s0 - k


@register
class Mean(OpDef):
    kind = "MEAN"
    tflite_options = "ReducerOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0], "input", "MEAN")
        if x.dtype not in ("int8", "int16", "float32"):
            raise GraphError(f"MEAN: unsupported input dtype {x.dtype}")
        if ins[1] is not None and ins[1].dtype != "int32":
            raise GraphError(f"MEAN: axis must be int32, not {ins[1].dtype}")
        axes = resolve_axes(ins)
        keep = op.attr("keep_dims", False)
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)
                      if keep or i not in axes)
        return [(shape, x.dtype)]

    @staticmethod
    def reference(node: Node, args):
        axes = resolve_axes(node.ins)
        out_shape = node.outs[0].shape
        n = int(np.prod([node.ins[0].shape[a] for a in axes], dtype=np.int64))
        x = np.asarray(args[0])
        if not node.quantized:
            total = np.sum(x, axis=axes, dtype=np.float32)
            return [(total / np.float32(n)).astype(np.float32).reshape(out_shape)]
        s_in, zp_in = common.qparams(node.ins[0])
        s_out, zp_out = common.qparams(node.outs[0])
        dtype = np.dtype(node.outs[0].dtype)
        if n == 0:
            return [np.zeros(out_shape, dtype)]
        mult, shift = mean_multiplier(s_in, s_out, n)
        total = fp.wrap32(np.sum(x, axis=axes, dtype=np.int64))
        shifted = fp.wrap32(total - zp_in * n)
        out = np.clip(fp.mbqm(shifted, mult, shift) + zp_out, np.iinfo(dtype).min,
                      np.iinfo(dtype).max)
        return [out.astype(dtype).reshape(out_shape)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(keep_dims=bool(common.options_get(o, "keepDims", False)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.ReducerOptionsT()
        o.keepDims = bool(attrs.get("keep_dims", False))
        return o

    @staticmethod
    def lower_c(node: Node):
        x, out = node.ins[0], node.outs[0]
        axes = resolve_axes(node.ins)
        steps = cparams.strides(x.shape)
        kept = [a for a in range(len(x.shape)) if a not in axes]
        count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        if count == 0:
            raise cparams.unsupported(node, "MEAN over an empty axis")
        fields = dict(outer=cparams.walk([x.shape[a] for a in kept], [steps[a] for a in kept]),
                      inner=cparams.walk([x.shape[a] for a in axes], [steps[a] for a in axes]),
                      count=count)
        if not node.quantized:
            return CCall("fitml_mean_f32", "fitml_mean_f32_params", fields, cparams.io(node))
        mult, shift = mean_multiplier(x.quant.s, out.quant.s, count)
        suffix = "s16" if x.dtype == "int16" else "s8"
        return CCall(f"fitml_mean_{suffix}", "fitml_mean_s8_params",
                     dict(fields, input_zp=x.quant.zp, output_zp=out.quant.zp,
                          multiplier=mult, shift=shift), cparams.io(node))
