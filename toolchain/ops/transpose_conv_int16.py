"""TRANSPOSE_CONV 16x8 (int16 activations, int8 filter, optional int64 bias): TFLM's int16
TransposeConv with an int64 scratch: exact int64 sums, + bias, the int64-x
MultiplyByQuantizedMultiplier (fixedpoint.mbqm64), the fused clamp on the int16 range. Zero
points are 0, so no offsets. The op's INT16x8 variants (registry.variant)."""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..lowering import cparams
from ..lowering.ccall import CCall, Scratch, TensorRef
from . import common, int16
from .registry import INT16x8, Node, variant
from .transpose_conv import KIND
from .transpose_conv_scatter import geom, scatter


def _multipliers(node: Node):
    x, w, out = node.ins[2], node.ins[1], node.outs[0]
    return common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, w.shape[0])


@variant(KIND, INT16x8, "reference")
def reference(node: Node, args) -> list[np.ndarray]:
    """int64 scratch sums, + int64 bias, mbqm64, clamp."""
    acc = scatter(node, args[2], args[1], np.int64)
    if len(args) > 3 and args[3] is not None:
        with np.errstate(over="ignore"):
            acc = acc + fp.i64(args[3])
    mult, shift = _multipliers(node)
    lo, hi = int16.bounds(node)
    return [np.clip(fp.mbqm64(acc, mult, shift), lo, hi).astype(np.int16)]


@variant(KIND, INT16x8, "lower_c")
def lower_c(node: Node) -> CCall:
    """fitml_transpose_conv_s16 with an int64 scratch of the output's size."""
    x, w, out = node.ins[2], node.ins[1], node.outs[0]
    b = node.ins[3] if len(node.ins) > 3 else None
    mult, shift = _multipliers(node)
    lo, hi = int16.bounds(node)
    return CCall("fitml_transpose_conv_s16", "fitml_transpose_conv_s16_params",
                 dict(geom=geom(node), filter=cparams.ref(w),
                      bias=cparams.ref(b) if b is not None else "NULL",
                      requant=cparams.requant(mult, shift), act_min=lo, act_max=hi),
                 (TensorRef(x.name), TensorRef(out.name), Scratch()), scratch_bytes=8 * out.size)
