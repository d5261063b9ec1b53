"""int16 activations with int8 weights (TFLite's "16x8" scheme): contract and numpy reference.

TFLM's 16x8 kernels (reference integer_ops conv.h / depthwise_conv.h / fully_connected.h,
int16 overloads) differ from int8 in four ways:
- zero points are 0 (symmetric int16), so no input or output offset enters the arithmetic;
- products int16 x int8 sum into an accumulator of the bias' type: int64 for an int64 bias,
  (or no bias), then requantized by the int64-x MultiplyByQuantizedMultiplier (16-bit reduced
  multiplier, one rounding: `fixedpoint.mbqm64`); int32 for an int32 bias (TFLM accepts one for
  16x8 CONV_2D and FULLY_CONNECTED), which wraps and takes the double-rounding int32 MBQM;
- the fused activation clamps on the int16 range;
- the filter must be int8 (no int4, no hybrid).
The multipliers are derived exactly as for int8 (common.conv_multipliers, FC per-tensor float).
The references below are the ops' INT16x8 variants (registry.variant).
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..arith import fixedpoint as fp
from . import common
from .fc_multipliers import multipliers
from .registry import INT16x8, Node, variant
from .windows import conv_patches, node_pads

INT16_MIN, INT16_MAX = -32768, 32767
# the installed TFLM reads an int32 bias for 16x8 CONV_2D and FULLY_CONNECTED (int32
# accumulator), but DEPTHWISE_CONV_2D always reads int64 (an int32 bias would be misread)
BIAS_DTYPES = {"CONV_2D": ("int64", "int32"), "DEPTHWISE_CONV_2D": ("int64",),
               "FULLY_CONNECTED": ("int64", "int32")}


def is_int16(node: Node) -> bool:
    return node.ins[0] is not None and node.ins[0].dtype == "int16"


def check_zero_points(kind: str, tensors) -> None:
    """16x8 activations are symmetric: TFLM's int16 kernels assume (and mostly check) zp 0."""
    for t in tensors:
        s, zp = common.qparams(t)
        if zp != 0:
            raise GraphError(f"{kind}: int16 tensor {t.name!r} has zero point {zp}; the 16x8 "
                             "scheme needs 0")


def check_weighted(kind: str, ins, outs, channels: int, axis: int) -> None:
    """The 16x8 contract of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED."""
    x, w, out = ins[0], ins[1], outs[0]
    b = ins[2] if len(ins) > 2 else None
    if w.dtype != "int8":
        raise GraphError(f"{kind}: int16 input needs an int8 filter (TFLM 16x8), got {w.dtype}")
    if out.dtype != "int16":
        raise GraphError(f"{kind}: int16 input needs an int16 output, got {out.dtype}")
    check_zero_points(kind, (x, out))
    common.qparams(w)
    q = w.quant
    if q.scale.size > 1 and (q.axis is None or q.axis % len(w.shape) != axis
                             or q.scale.size != channels):
        raise GraphError(f"{kind}: per-channel filter scales must be {channels} along axis "
                         f"{axis}, got {q.scale.size} along axis {q.axis}")
    if b is not None and (b.shape != (channels,) or b.dtype not in BIAS_DTYPES[kind]):
        raise GraphError(f"{kind}: 16x8 bias must be {channels} values of "
                         f"{' or '.join(BIAS_DTYPES[kind])}, got {b.dtype}{list(b.shape)}")
    if b is None or b.dtype == "int64":      # the int64 MBQM shifts right by 15 - shift
        if kind == "FULLY_CONNECTED":
            shift = multipliers(x.quant.s, w, out.quant.s)[1]
        else:
            shift = common.conv_multipliers(x.quant.s, q.scale, out.quant.s, channels)[1]
        if np.max(shift) > 14:
            raise GraphError(f"{kind}: output scale {out.quant.s:g} too small for the 16x8 "
                             "requantization (multiplier shift above 14)")


def bounds(node: Node) -> tuple[int, int]:
    """Clamp of the fused activation on the int16 output."""
    s, zp = common.qparams(node.outs[0])
    return fp.activation_bounds(node.attr("activation", "NONE"), s, zp, INT16_MIN, INT16_MAX)


def wide(node: Node) -> bool:
    """True for the int64 accumulator (int64 bias, or no bias), False for an int32 bias."""
    b = node.ins[2] if len(node.ins) > 2 else None
    return b is None or b.dtype == "int64"


def finish(node: Node, acc: np.ndarray, bias, mult, shift) -> np.ndarray:
    """Accumulator (int64, exact) + bias -> requantized, clamped int16."""
    acc = fp.i64(acc)
    if bias is not None:
        with np.errstate(over="ignore"):
            acc = acc + fp.i64(bias)
    if wide(node):
        scaled = fp.mbqm64(acc, mult, shift)
    else:
        scaled = fp.mbqm(fp.wrap32(acc), mult, shift)
    lo, hi = bounds(node)
    return np.clip(scaled, lo, hi).astype(np.int16)


def _patches(node: Node, x) -> np.ndarray:
    """[N, OH, OW, KH, KW, C] windows of x; padded taps hold the zero point (0)."""
    kernel, dilation = node.ins[1].shape[1:3], node.attr("dilation", (1, 1))
    return conv_patches(x, kernel, node.attr("stride", (1, 1)), dilation,
                        node.outs[0].shape[1:3], common.qparams(node.ins[0])[1],
                        node_pads(node, kernel, dilation))


@variant("CONV_2D", INT16x8, "reference")
def conv_reference(node: Node, args) -> list[np.ndarray]:
    """CONV_2D 16x8: int64 accumulator, int16 output."""
    wt, out = node.ins[1], node.outs[0]
    w, patches = fp.i64(args[1]), _patches(node, args[0])
    cout, _, _, cin_g = wt.shape
    groups = node.ins[0].shape[3] // cin_g
    cpg = cout // groups
    acc = np.concatenate([np.einsum("nhwijc,oijc->nhwo",
                                    fp.i64(patches[..., g * cin_g:(g + 1) * cin_g]),
                                    w[g * cpg:(g + 1) * cpg]) for g in range(groups)], axis=-1)
    mult, shift = common.conv_multipliers(node.ins[0].quant.s, wt.quant.scale, out.quant.s,
                                          cout)
    return [finish(node, acc, args[2] if len(args) > 2 else None, mult, shift)]


@variant("DEPTHWISE_CONV_2D", INT16x8, "reference")
def depthwise_reference(node: Node, args) -> list[np.ndarray]:
    """DEPTHWISE_CONV_2D 16x8: output channel ic*dm+m reads input channel ic."""
    wt, out = node.ins[1], node.outs[0]
    patches = _patches(node, args[0])
    _, kh, kw, cout = wt.shape
    c = node.ins[0].shape[3]
    wr = fp.i64(args[1]).reshape(kh, kw, c, cout // c)
    acc = np.einsum("nhwijc,ijcm->nhwcm", fp.i64(patches), wr).reshape(out.shape)
    mult, shift = common.conv_multipliers(node.ins[0].quant.s, wt.quant.scale, out.quant.s,
                                          cout)
    return [finish(node, acc, args[2] if len(args) > 2 else None, mult, shift)]


@variant("FULLY_CONNECTED", INT16x8, "reference")
def fc_reference(node: Node, args) -> list[np.ndarray]:
    """FULLY_CONNECTED 16x8: input read as [batches, K]."""
    xt, wt, out = node.ins[0], node.ins[1], node.outs[0]
    n, k = wt.shape
    acc = fp.i64(args[0]).reshape(-1, k) @ fp.i64(args[1]).T
    bias = args[2] if len(args) > 2 else None
    mult, shift = multipliers(xt.quant.s, wt, out.quant.s)
    return [finish(node, acc, bias, mult, shift).reshape(out.shape)]
