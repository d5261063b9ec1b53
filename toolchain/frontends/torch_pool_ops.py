"""ATen pooling (max, average, adaptive average) and mean reductions as TFLite ops.

torch pads symmetrically and may count padding in averages; TFLite's SAME/VALID windows
never do, so padding becomes an explicit PAD where the two differ (or is refused).
"""
from __future__ import annotations

import numpy as np

from .torch_builder import Builder
from .torch_common import NHWC, Value, converter
from .torch_ops import pad, pair, window_padding

LOWEST = float(np.finfo(np.float32).min)


# --- pooling and reductions -------------------------------------------------------------------
def pool_geometry(b: Builder, node, x: Value, kernel, stride, padding):
    if len(b.shape(x)) != 4:
        raise b.error(f"expects an NCHW input, got shape {list(b.shape(x))}")
    k = pair(kernel)
    s = pair(stride) if stride not in (None, [], ()) else k
    return k, s, pair(padding), b.shape(x)[2:], b.out_shape(node)[2:]


@converter("aten.max_pool2d_with_indices.default", "aten.max_pool2d.default")
def max_pool2d(b, node, x, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    if pair(dilation) != (1, 1):
        raise b.error(f"max pooling with dilation {list(pair(dilation))} is not supported")
    k, s, p, in_hw, out_hw = pool_geometry(b, node, x, kernel, stride, padding)
    t, mode = window_padding(b, b.tensor_in(x, NHWC), in_hw, k, s, (1, 1), p, out_hw, LOWEST)
    out = b.emit("MAX_POOL_2D", [t], dict(padding=mode, stride=s, filter=k,
                                          activation="NONE"))
    return (out, None) if "indices" in str(node.target) else out


@converter("aten.avg_pool2d.default")
def avg_pool2d(b, node, x, kernel, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """TFLite averages only the taps inside the image. count_include_pad=True with padding
    becomes an explicit zero PAD (the zeros are then counted, as torch counts them)."""
    if divisor_override:
        raise b.error("avg_pool2d with divisor_override is not supported")
    k, s, p, in_hw, out_hw = pool_geometry(b, node, x, kernel, stride, padding)
    t = b.tensor_in(x, NHWC)
    if count_include_pad and p != (0, 0):
        floor = [(i + 2 * q - f) // st + 1 for i, q, f, st in zip(in_hw, p, k, s)]
        if list(out_hw) != floor:
            raise b.error("avg_pool2d with count_include_pad=True, padding and ceil_mode "
                          "overhang is not supported")
        t, mode = pad(b, t, [[0, 0], [p[0], p[0]], [p[1], p[1]], [0, 0]]), "VALID"
    else:
        padded, mode = window_padding(b, t, in_hw, k, s, (1, 1), p, out_hw)
        if padded != t:
            raise b.error(f"avg_pool2d padding {list(p)} (ceil_mode={ceil_mode}) does not match "
                          "TFLite SAME padding; TFLite excludes padding from the average")
    return b.emit("AVERAGE_POOL_2D", [t], dict(padding=mode, stride=s, filter=k,
                                                activation="NONE"))


@converter("aten._adaptive_avg_pool2d.default", "aten.adaptive_avg_pool2d.default")
def adaptive_avg_pool2d(b, node, x, output_size):
    h, w = b.shape(x)[2:]
    oh, ow = b.out_shape(node)[2:]
    if (oh, ow) == (h, w):
        return x
    if (oh, ow) == (1, 1):
        return mean_over(b, x, [2, 3], True)
    if h % oh or w % ow:
        raise b.error(f"adaptive average pooling {h}x{w} -> {oh}x{ow} is supported only for "
                      "output 1x1 or when the output divides the input")
    k = (h // oh, w // ow)
    return b.emit("AVERAGE_POOL_2D", [b.tensor_in(x, NHWC)],
                  dict(padding="VALID", stride=k, filter=k, activation="NONE"))


def mean_over(b: Builder, x: Value, dims, keepdim: bool, kind: str = "MEAN") -> Value:
    """MEAN (or SUM, REDUCE_MAX) of x over torch dims (all when empty), in x's stored layout."""
    rank = len(x.perm)
    dims = set(range(rank)) if not dims else {int(d) % rank for d in dims}
    axes = sorted(x.perm.index(d) for d in dims)
    kept = [p for p in x.perm if p not in dims]
    perm = x.perm if keepdim else tuple(sorted(kept).index(p) for p in kept)
    return b.emit(kind, [x.tensor, b.ints(axes, "axes")], dict(keep_dims=bool(keepdim)),
                  perm=perm)


@converter("aten.mean.dim")
def mean_dim(b, node, x, dims, keepdim=False, dtype=None):
    return mean_over(b, x, dims, keepdim)


@converter("aten.mean.default")
def mean_all(b, node, x, dtype=None):
    return mean_over(b, x, None, False)


@converter("aten.sum.dim_IntList")
def sum_dim(b, node, x, dims, keepdim=False, dtype=None):
    return mean_over(b, x, dims, keepdim, "SUM")


@converter("aten.sum.default")
def sum_all(b, node, x, dtype=None):
    return mean_over(b, x, None, False, "SUM")


@converter("aten.amax.default")
def amax(b, node, x, dims=(), keepdim=False):
    return mean_over(b, x, dims, keepdim, "REDUCE_MAX")
