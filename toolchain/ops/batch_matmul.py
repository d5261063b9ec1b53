"""BATCH_MATMUL: lhs [..., M, K] x rhs [..., K, N] -> [..., M, N], batch dims broadcast.

As TFLite Micro (batch_matmul.cc, reference_ops::BatchMatMul): ranks 2 to 5, both operands of
one dtype (float32, int8, int16), `adj_x` / `adj_y` transposing the last two dims of lhs / rhs.
float32 sums over k in order. int8: per-tensor scales, int32 sum of (lhs - zp_l) * (rhs - zp_r),
multiplier (double)float32(s_l * s_r) / s_out, double-rounding MBQM, + zp_out, clamped to int8.
int16: zero points 0, int64 sum, the int64 MBQM overload. No fused activation.
"""
from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..arith import fixedpoint as fp
from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import common
from .fc_multipliers import per_tensor_multiplier
from .opdef import OpDef
from .registry import Node, register

KIND = "BATCH_MATMUL"
DTYPES = ("float32", "int8", "int16")
LIMITS = {"int8": (-128, 127), "int16": (-32768, 32767)}
MAX_BATCH = 3           # rank 5: three batch dims


def matrices(lhs_shape, rhs_shape, adj_x: bool, adj_y: bool):
    """(batch shape, M, K, N) of the product, or a GraphError naming what does not fit."""
    shapes = f"lhs {list(lhs_shape)}, rhs {list(rhs_shape)}"
    if not (2 <= len(lhs_shape) <= 5 and 2 <= len(rhs_shape) <= 5):
        raise GraphError(f"{KIND}: operands must have rank 2 to 5 (TFLite Micro), got {shapes}")
    m, k = lhs_shape[-2:][::-1] if adj_x else lhs_shape[-2:]
    k2, n = rhs_shape[-2:][::-1] if adj_y else rhs_shape[-2:]
    if k != k2:
        raise GraphError(f"{KIND}: inner dimensions differ ({k} vs {k2}) for {shapes}, "
                         f"adj_x={adj_x}, adj_y={adj_y}")
    try:
        batch = np.broadcast_shapes(tuple(lhs_shape[:-2]), tuple(rhs_shape[:-2]))
    except ValueError:
        raise GraphError(f"{KIND}: batch dimensions do not broadcast for {shapes}") from None
    return tuple(int(d) for d in batch), int(m), int(k), int(n)


def multiplier(node: Node) -> tuple[int, int]:
    lhs, rhs, out = node.ins[0], node.ins[1], node.outs[0]
    return per_tensor_multiplier(lhs.quant.s, rhs.quant.s, out.quant.s)


@register
class BatchMatMul(OpDef):
    kind = KIND
    tflite_options = "BatchMatMulOptions"

    @staticmethod
    def infer(op, ins):
        lhs, rhs = common.need(ins[0], "lhs", KIND), common.need(ins[1], "rhs", KIND)
        if lhs.dtype not in DTYPES or rhs.dtype != lhs.dtype:
            raise GraphError(f"{KIND}: operands {lhs.dtype} and {rhs.dtype}: both must be one of "
                             f"{', '.join(DTYPES)} (TFLite Micro)")
        batch, m, _, n = matrices(lhs.shape, rhs.shape, op.attr("adj_x", False),
                                  op.attr("adj_y", False))
        return [(batch + (m, n), lhs.dtype)]

    @staticmethod
    def check(op, ins, outs):
        if ins[0].dtype == "float32":
            return
        tensors = (ins[0], ins[1], outs[0])
        for t in tensors:
            common.qparams(t)
            if t.quant.scale.size != 1:
                raise GraphError(f"{KIND}: tensor {t.name!r} is quantized per channel; "
                                 "TFLite Micro's BATCH_MATMUL takes per-tensor scales only")
        mult_shift = per_tensor_multiplier(*(t.quant.s for t in tensors))[1]
        common.check_left_shift(KIND, mult_shift, tensors[0].quant.s * tensors[1].quant.s
                                / outs[0].quant.s, "output multiplier")
        if ins[0].dtype == "int16":
            if any(t.quant.zp != 0 for t in tensors):
                raise GraphError(f"{KIND}: int16 operands and output need zero point 0")
            if mult_shift > 14:
                raise GraphError(f"{KIND}: output scale {outs[0].quant.s:g} too small for "
                                 "int16 (the multiplier would shift left by more than 14)")

    @staticmethod
    def reference(node: Node, args):
        lhs, rhs = (np.swapaxes(a, -1, -2) if node.attr(adj, False) else np.asarray(a)
                    for a, adj in zip(args[:2], ("adj_x", "adj_y")))
        out = node.outs[0]
        if out.dtype == "float32":
            acc = np.zeros(out.shape, np.float32)
            for k in range(lhs.shape[-1]):      # TFLM's order: one rounding per product and sum
                acc = acc + lhs[..., :, k:k + 1].astype(np.float32) * rhs[..., k:k + 1, :]
            return [acc.astype(np.float32)]
        zp_l, zp_r = node.ins[0].quant.zp, node.ins[1].quant.zp
        acc = np.matmul(fp.i64(lhs) - zp_l, fp.i64(rhs) - zp_r)
        mult, shift = multiplier(node)
        scaled = (fp.mbqm(fp.wrap32(acc), mult, shift) if out.dtype == "int8"
                  else fp.mbqm64(acc, mult, shift))
        return [np.clip(scaled + out.quant.zp, *LIMITS[out.dtype]).astype(out.dtype)]

    @staticmethod
    def attrs_from_tflite(o):
        return dict(adj_x=bool(common.options_get(o, "adjX", False)),
                    adj_y=bool(common.options_get(o, "adjY", False)),
                    asymmetric_quantize_inputs=bool(
                        common.options_get(o, "asymmetricQuantizeInputs", False)))

    @staticmethod
    def attrs_to_tflite(attrs):
        o = schema.BatchMatMulOptionsT()
        o.adjX, o.adjY = bool(attrs.get("adj_x", False)), bool(attrs.get("adj_y", False))
        o.asymmetricQuantizeInputs = bool(attrs.get("asymmetric_quantize_inputs", False))
        return o

    @staticmethod
    def macs(node):
        batch, m, k, n = matrices(node.ins[0].shape, node.ins[1].shape,
                                  node.attr("adj_x", False), node.attr("adj_y", False))
        return int(np.prod(batch, dtype=np.int64)) * m * k * n

    @staticmethod
    def lower_c(node: Node):
        """fitml_batch_matmul_f32 / _s8 / _s16: strided reads, so adj_x / adj_y move no data."""
        lhs, rhs, out = node.ins[0], node.ins[1], node.outs[0]
        geom = geometry(node)
        io = (cparams.ref(lhs), cparams.ref(rhs), cparams.ref(out))
        if out.dtype == "float32":
            return CCall("fitml_batch_matmul_f32", "fitml_batch_matmul_f32_params",
                         dict(geom=geom), io)
        mult, shift = multiplier(node)
        suffix = "s8" if out.dtype == "int8" else "s16"
        return CCall(f"fitml_batch_matmul_{suffix}", "fitml_batch_matmul_q_params",
                     dict(geom=geom, lhs_zp=lhs.quant.zp, rhs_zp=rhs.quant.zp,
                          output_zp=out.quant.zp, output_multiplier=mult, output_shift=shift),
                     io)


def geometry(node: Node) -> dict:
    """fitml_batch_matmul_geom: output batch dims (padded to 3 in front) and every element
    stride the kernel walks, batch strides 0 where an operand broadcasts."""
    lhs, rhs = node.ins[0].shape, node.ins[1].shape
    adj_x, adj_y = node.attr("adj_x", False), node.attr("adj_y", False)
    batch, m, k, n = matrices(lhs, rhs, adj_x, adj_y)
    batch = (1,) * (MAX_BATCH - len(batch)) + batch

    def batch_strides(shape):
        full = (1,) * (MAX_BATCH + 2 - len(shape)) + tuple(shape)
        st = cparams.strides(full)
        return [s if d != 1 else 0 for d, s in zip(full[:MAX_BATCH], st[:MAX_BATCH])]
    lhs_row, lhs_depth = (1, m) if adj_x else (k, 1)
    rhs_depth, rhs_col = (1, k) if adj_y else (n, 1)
    return dict(batch_dims=list(batch), lhs_batch_strides=batch_strides(lhs),
                rhs_batch_strides=batch_strides(rhs), rows=m, cols=n, depth=k,
                lhs_row_stride=lhs_row, lhs_depth_stride=lhs_depth,
                rhs_depth_stride=rhs_depth, rhs_col_stride=rhs_col)
