"""Hybrid (dynamic-range) CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED: float32 activations,
int8 (or int4) constant weights.

LiteRT quantizes each batch of the float input on the fly (symmetric or asymmetric int8),
accumulates int8 x int8 in int32 and rescales the accumulator to float32. The quantizers are
the NEON ones (x86 builds run them through NEON_2_SSE) and the float32 operation order is
LiteRT's (conv.cc EvalHybrid / EvalHybridPerChannel, depthwise_conv.cc, fully_connected.cc
EvalHybridDense), so results equal LiteRT's BUILTIN_REF bit for bit; the one exception is a
FULLY_CONNECTED fused TANH, where LiteRT uses Eigen's approximate tanh (close, not bit-exact).
The references below are the ops' HYBRID variants (registry.variant).
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..arith import fixedpoint as fp
from . import common
from .hybrid_quantize import asymmetric_quantize, symmetric_quantize
from .registry import HYBRID, Node, variant
from .windows import conv_patches, node_pads

F32 = np.float32


def is_hybrid(node: Node) -> bool:
    """True when a float32 input meets an int8/int4 weight (LiteRT's hybrid kernels)."""
    x = node.ins[0] if node.ins else None
    w = node.ins[1] if len(node.ins) > 1 else None
    return x is not None and w is not None and x.dtype == "float32" and w.dtype in ("int8", "int4")


def _bias(args) -> np.ndarray | F32:
    bias = args[2] if len(args) > 2 else None
    return F32(0) if bias is None else np.asarray(bias, F32)


def _patches(node: Node, xq, offset, kernel) -> np.ndarray:
    """[N, OH, OW, KH, KW, C] windows of xq - offset; taps outside the image give 0."""
    out = node.outs[0]
    kh, kw = kernel
    n = xq.shape[0]
    # fill each batch's padded taps with its own offset: they then contribute zero
    dilation = node.attr("dilation", (1, 1))
    pads = node_pads(node, (kh, kw), dilation)
    p = np.stack([conv_patches(xq[b:b + 1], (kh, kw), node.attr("stride", (1, 1)), dilation,
                               out.shape[1:3], int(offset[b]), pads)[0] for b in range(n)])
    return p - np.asarray(offset, np.int64).reshape(n, 1, 1, 1, 1, 1)


def conv_per_channel(node: Node) -> bool:
    """Which LiteRT hybrid CONV_2D runs: EvalHybridPerChannel (asymmetric inputs) when the
    filter scales differ or the conv is grouped, else EvalHybrid (symmetric inputs)."""
    cout, _, _, cin_g = node.ins[1].shape
    groups = node.ins[0].shape[3] // cin_g
    scales = np.asarray(node.ins[1].quant.scale, F32)
    if groups != 1 and scales.size != cout:
        raise GraphError("CONV_2D hybrid: grouped convolution needs per-channel filter scales "
                         "(LiteRT indexes one scale per output channel)")
    return groups != 1 or (scales.size > 1 and bool(np.any(scales != scales[0])))


@variant("CONV_2D", HYBRID, "reference")
def hybrid_conv_reference(node: Node, args) -> list[np.ndarray]:
    """CONV_2D hybrid: per-tensor -> symmetric inputs (EvalHybrid); per-channel scales that
    differ, or groups -> asymmetric inputs (EvalHybridPerChannel)."""
    x, w = np.asarray(args[0], F32), np.asarray(args[1]).astype(np.int64)
    xt, wt, out = node.ins[0], node.ins[1], node.outs[0]
    cout, _, _, cin_g = wt.shape
    groups = xt.shape[3] // cin_g
    scales = np.asarray(wt.quant.scale, F32)
    act = node.attr("activation", "NONE")
    n = x.shape[0]
    per_channel = conv_per_channel(node)
    if per_channel:
        xq, sf, zp = asymmetric_quantize(x.reshape(n, -1))
    else:
        xq, sf = symmetric_quantize(x.reshape(n, -1))
        zp = np.zeros(n, np.int64)
    p = _patches(node, xq.reshape(x.shape), zp, wt.shape[1:3])
    cpg = cout // groups
    acc = np.concatenate([np.einsum("nhwijc,oijc->nhwo", p[..., g * cin_g:(g + 1) * cin_g],
                                    w[g * cpg:(g + 1) * cpg]) for g in range(groups)], axis=-1)
    accf = fp.wrap32(acc).astype(F32)
    if per_channel:
        y = accf * scales.reshape(1, 1, 1, -1) * sf.reshape(n, 1, 1, 1)
    else:  # MatrixBatchVectorMultiplyAccumulate: 0 + acc * (sf * scale[0])
        y = accf * (sf * scales[0]).astype(F32).reshape(n, 1, 1, 1)
    return [common.float_clamp(y + _bias(args), act).reshape(out.shape)]


@variant("DEPTHWISE_CONV_2D", HYBRID, "reference")
def hybrid_depthwise_reference(node: Node, args) -> list[np.ndarray]:
    """DEPTHWISE_CONV_2D hybrid (DepthwiseConvHybridPerChannel): asymmetric inputs,
    acc * (scale[c] * sf); LiteRT reads one filter scale per output channel."""
    x, w = np.asarray(args[0], F32), np.asarray(args[1]).astype(np.int64)
    xt, wt, out = node.ins[0], node.ins[1], node.outs[0]
    _, kh, kw, cout = wt.shape
    c = xt.shape[3]
    scales = np.asarray(wt.quant.scale, F32)
    if scales.size != cout:
        raise GraphError(f"DEPTHWISE_CONV_2D hybrid: LiteRT needs {cout} per-channel filter "
                         f"scales, got {scales.size}")
    n = x.shape[0]
    xq, sf, zp = asymmetric_quantize(x.reshape(n, -1))
    p = _patches(node, xq.reshape(x.shape), zp, (kh, kw))
    acc = np.einsum("nhwijc,ijcm->nhwcm", p, w.reshape(kh, kw, c, cout // c))
    accf = fp.wrap32(acc.reshape(out.shape)).astype(F32)
    y = accf * (scales.reshape(1, -1) * sf.reshape(n, 1)).astype(F32).reshape(n, 1, 1, cout)
    return [common.float_clamp(y + _bias(args), node.attr("activation", "NONE"))]


@variant("FULLY_CONNECTED", HYBRID, "reference")
def hybrid_fc_reference(node: Node, args) -> list[np.ndarray]:
    """FULLY_CONNECTED hybrid (EvalHybridDense): per-row symmetric inputs, or asymmetric with
    the `asymmetric_quantize_inputs` attr; out = bias + (acc - zp * rowsum) * row_scale."""
    x, w = np.asarray(args[0], F32), np.asarray(args[1]).astype(np.int64)
    wt, out = node.ins[1], node.outs[0]
    units, k = wt.shape
    rows = x.reshape(-1, k)
    scales = np.asarray(wt.quant.scale, F32)
    if node.attr("asymmetric_quantize_inputs", False):
        xq, sf, zp = asymmetric_quantize(rows)
    else:
        (xq, sf), zp = symmetric_quantize(rows), np.zeros(rows.shape[0], np.int64)
    if scales.size > 1:  # row_scale = per_channel_scale[row] * batch_scaling_factor
        row_scale = (scales.reshape(1, -1) * sf.reshape(-1, 1)).astype(F32)
    else:
        row_scale = (sf * scales[0]).astype(F32).reshape(-1, 1)
    acc = fp.wrap32(xq @ w.T - zp.reshape(-1, 1) * w.sum(axis=1).reshape(1, -1))
    y = _bias(args) + acc.astype(F32) * row_scale
    y = fp.float_activation(y.astype(F32), node.attr("activation", "NONE"))
    return [np.asarray(y, F32).reshape(out.shape)]
