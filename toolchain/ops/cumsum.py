"""CUMSUM: running sums along a constant axis, optionally exclusive (each output leaves out its
own element) and reversed (summed from the end), as TFLM's cumsum.cc (float32, int8) and
LiteRT's (int32, which TFLM does not run).

float32 adds in order from 0.0 (TFLM's accumulator), so the reference is bit-exact. int32 wraps
on overflow as C does in practice. int8 is TFLM's ADD-like rescaling: each (q - zp_in) << 20 is
scaled by 1/2 (s_in / (2 s_in)), summed in a wrapping int32, and the sum scaled by
2 s_in / (2^20 s_out) to the output. TFLM's accumulator starts at the scaled -zp_in instead of
0, so every int8 output carries that extra term; fitml computes the same, bit for bit.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..arith import fixedpoint as fp
from ..arith.addsub import LEFT_SHIFT, scale_down
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8", "int32")


def axis_of(x, axis_tensor) -> int:
    """The constant axis, made non-negative; a GraphError when it is not one valid axis."""
    values = common.const_ints(axis_tensor, "axis", "CUMSUM").reshape(-1)
    if axis_tensor.dtype != "int32":
        raise GraphError(f"CUMSUM: axis {axis_tensor.name!r} is {axis_tensor.dtype}; TFLite "
                         "takes int32")
    rank = len(x.shape)
    if values.size != 1 or not -rank <= int(values[0]) < rank:
        raise GraphError(f"CUMSUM: axis {values.tolist()} must be one value in [-{rank}, "
                         f"{rank}) for the rank-{rank} input {x.name!r}")
    return int(values[0]) % rank


def sizes(shape, axis: int) -> tuple[int, int, int]:
    """(outer, depth, inner): element counts before, along and after the axis."""
    prod = lambda dims: int(np.prod(dims, dtype=np.int64))  # noqa: E731
    return prod(shape[:axis]), int(shape[axis]), prod(shape[axis + 1:])


def int8_params(node: Node) -> dict:
    """TFLM's int8 CUMSUM constants (CalculateOpData): offsets and two multipliers."""
    (s_in, zp_in), (s_out, zp_out) = (common.qparams(t) for t in (node.ins[0], node.outs[0]))
    twice = 2.0 * float(s_in)
    m_in, e_in = fp.quantize_multiplier(float(s_in) / twice)
    m_out, e_out = fp.quantize_multiplier(twice / ((1 << LEFT_SHIFT) * float(s_out)))
    return dict(input_offset=-zp_in, output_offset=zp_out, input_multiplier=m_in,
                input_shift=e_in, output_multiplier=m_out, output_shift=e_out)


def running_sum(x: np.ndarray, exclusive: bool, reverse: bool, start=0) -> np.ndarray:
    """Sums along axis 1 of [outer, depth, inner] in TFLM's order, from `start`."""
    if reverse:
        x = x[:, ::-1]
    head = np.full((x.shape[0], 1, x.shape[2]), start, x.dtype)
    sums = np.add.accumulate(np.concatenate([head, x], axis=1), axis=1)  # in order, from start
    out = sums[:, :-1] if exclusive else sums[:, 1:]
    return out[:, ::-1] if reverse else out


@register
class Cumsum(OpDef):
    kind = "CUMSUM"
    tflite_options = "CumsumOptions"

    @staticmethod
    def infer(op, ins):
        x = common.need(ins[0] if ins else None, "input", "CUMSUM")
        if x.dtype not in DTYPES or not x.shape:
            raise GraphError(f"CUMSUM: {x.dtype} input {x.name!r} of rank {len(x.shape)} is "
                             f"not supported (TFLite takes {', '.join(DTYPES)}, rank >= 1)")
        axis_of(x, ins[1] if len(ins) > 1 else None)
        return [(x.shape, x.dtype)]

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype != "int8":
            return
        common.qparams(ins[0]), common.qparams(outs[0])
        if 2.0 * float(ins[0].quant.s) >= (1 << LEFT_SHIFT) * float(outs[0].quant.s):
            raise GraphError(f"CUMSUM: output scale of {outs[0].name!r} must exceed "
                             "2^-19 x the input scale (TFLM's multiplier below one)")

    @staticmethod
    def reference(node: Node, args):
        x = node.ins[0]
        outer, depth, inner = sizes(x.shape, axis_of(x, node.ins[1]))
        flags = dict(exclusive=bool(node.op.attr("exclusive", False)),
                     reverse=bool(node.op.attr("reverse", False)))
        data = np.asarray(args[0]).reshape(outer, depth, inner)
        if x.dtype == "float32":
            return [running_sum(data.astype(np.float32), **flags).reshape(x.shape)]
        if x.dtype == "int32":
            return [fp.wrap32(running_sum(fp.i64(data), **flags)).astype(np.int32)
                    .reshape(x.shape)]
        p = int8_params(node)
        scaled = lambda v: scale_down(fp.wrap32(v << LEFT_SHIFT),  # noqa: E731
                                      p["input_multiplier"], p["input_shift"])
        start = int(scaled(fp.i64(p["input_offset"])))      # TFLM's nonzero start
        sums = fp.wrap32(running_sum(scaled(fp.i64(data) + p["input_offset"]), start=start,
                                     **flags))
        out = scale_down(sums, p["output_multiplier"], p["output_shift"]) + p["output_offset"]
        return [np.clip(out, -128, 127).astype(np.int8).reshape(x.shape)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(exclusive=bool(common.options_get(o, "exclusive", False)),
                    reverse=bool(common.options_get(o, "reverse", False)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.CumsumOptionsT()
        o.exclusive, o.reverse = bool(attrs.get("exclusive")), bool(attrs.get("reverse"))
        return o

    @staticmethod
    def lower_c(node: Node):
        """fitml_cumsum_<f32|s32|s8> over [outer, depth, inner]."""
        x = node.ins[0]
        outer, depth, inner = sizes(x.shape, axis_of(x, node.ins[1]))
        params = dict(outer=outer, depth=depth, inner=inner,
                      exclusive=int(bool(node.op.attr("exclusive", False))),
                      reverse=int(bool(node.op.attr("reverse", False))))
        suffix = {"float32": "f32", "int32": "s32", "int8": "s8"}[x.dtype]
        struct = "fitml_cumsum_params"
        if x.dtype == "int8":
            struct = "fitml_cumsum_s8_params"
            params = dict(geom=params, **int8_params(node))
        return CCall(f"fitml_cumsum_{suffix}", struct, params,
                     (cparams.ref(x), cparams.ref(node.outs[0])))

    @staticmethod
    def macs(node):
        return node.outs[0].size
