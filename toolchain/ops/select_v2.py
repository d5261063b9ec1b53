"""SELECT_V2: condition ? x : y element-wise, the three operands broadcast NumPy style.

TFLM (select.cc; its only SELECT kernel) copies the chosen stored value: float32, int8 and
int16, never requantizing, so quantized x, y and output share one scale and zero point (what
TF's converter writes). The C kernel is byte-generic (`elem_size`) over a three-stride walk.

SELECT (v1, select.py; what TF's converter writes for tf.where on equal shapes) has no TFLM
kernel; LiteRT runs it. It is this op without broadcasting, except that a rank-1 condition
picks whole slices along the first dim.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..lowering import cparams
from ..lowering.ccall import CCall
from . import broadcast, common
from .registry import Node, OpDef, register

DTYPES = ("float32", "int8", "int16")


def zero_strides(shape, rank: int) -> list[int]:
    """Row-major strides of `shape` right-aligned to `rank`, 0 along broadcast dims."""
    full = (1,) * (rank - len(shape)) + tuple(shape)
    return [s if d != 1 else 0 for d, s in zip(full, cparams.strides(full))]


@register
class SelectV2(OpDef):
    kind = "SELECT_V2"
    tflite_options = "SelectV2Options"

    @classmethod
    def operands(cls, ins):
        """(condition, x, y) after the dtype rules both SELECT ops share."""
        if len(ins) != 3:
            raise GraphError(f"{cls.kind}: expects 3 inputs, got {len(ins)}")
        c, x, y = (common.need(t, w, cls.kind) for t, w in
                   zip(ins, ("condition", "input x", "input y")))
        if c.dtype != "bool":
            raise GraphError(f"{cls.kind}: condition must be bool, not {c.dtype}")
        if x.dtype != y.dtype or x.dtype not in DTYPES:
            raise GraphError(f"{cls.kind}: x and y must share a dtype among "
                             f"{', '.join(DTYPES)}, got {x.dtype} and {y.dtype}")
        return c, x, y

    @classmethod
    def infer(cls, op, ins):
        c, x, y = cls.operands(ins)
        shape = broadcast.broadcast_shape(x.shape, y.shape, cls.kind)
        return [(broadcast.broadcast_shape(c.shape, shape, cls.kind), x.dtype)]

    @classmethod
    def check(cls, op, ins, outs):
        if ins[1].dtype == "float32":
            return
        broadcast.check_per_tensor(cls.kind, (ins[1], ins[2], outs[0]))
        params = {(float(t.quant.s), int(t.quant.zp)) for t in (ins[1], ins[2], outs[0])}
        if len(params) != 1:
            raise GraphError(f"{cls.kind}: quantized x, y and output must share one scale and "
                             "zero point (TFLite copies stored values)")

    @classmethod
    def condition_shape(cls, node: Node) -> tuple[int, ...]:
        """The condition's shape as it broadcasts (SELECT overrides it)."""
        return tuple(node.ins[0].shape)

    @classmethod
    def reference(cls, node: Node, args):
        cond = np.asarray(args[0]).astype(bool).reshape(cls.condition_shape(node))
        return [np.where(cond, args[1], args[2]).astype(node.outs[0].dtype)]

    @classmethod
    def lower_c(cls, node: Node):
        """fitml_select: output dims and the three operands' strides, merged where they can."""
        out = node.outs[0]
        rank = len(out.shape)
        shapes = [cls.condition_shape(node)] + [t.shape for t in node.ins[1:3]]
        lists = [zero_strides(s, rank) for s in shapes]
        rank, dims, sc, sx, sy = cparams.collapse(list(out.shape) or [1], *lists)
        return CCall("fitml_select", "fitml_select_params",
                     dict(rank=rank, dims=dims, strides_cond=sc, strides_x=sx, strides_y=sy,
                          elem_size=np.dtype(out.dtype).itemsize),
                     tuple(cparams.ref(t) for t in node.ins[:3]) + (cparams.ref(out),))
