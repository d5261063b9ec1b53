"""Weight and bias quantization in TFLite's int8 scheme (and its symmetric int4).

Weights: symmetric, per channel along WEIGHT_AXIS (or per tensor), scale max|w| / qmax, zp 0,
widened where a bias would overflow int32 (as TFLite's converter does); int4 scales are
MSE-clipped. Bias: int32 (int64 for 16x8 ops) at s_in * s_w[c], zp 0.
"""
from __future__ import annotations

import numpy as np

from ..arith.fixedpoint import round_half_away
from ..ir import QuantParams, Tensor
from ..ops import common

WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0,
               "TRANSPOSE_CONV": 0}
# (input, filter, bias) operand slots of the weighted ops (TFLite's TRANSPOSE_CONV puts its
# output_shape first and the input third)
OPERANDS = {"CONV_2D": (0, 1, 2), "DEPTHWISE_CONV_2D": (0, 1, 2), "FULLY_CONNECTED": (0, 1, 2),
            "TRANSPOSE_CONV": (2, 1, 3)}
# operands quantized as parameters, not activations: filters, biases, SVDF's weights and state
PARAM_SLOTS = {**{k: v[1:] for k, v in OPERANDS.items()}, "SVDF": (1, 2, 3, 4)}
INT4_KINDS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")    # TFLM's int4 kernels
BIAS_MAX = float(1 << 30)    # |int32 bias| cap, leaving headroom for the accumulated products
WEIGHT_QMAX = {"int8": 127, "int4": 7}   # symmetric weight range per precision


def is_param(kind: str, slot: int) -> bool:
    """True when operand `slot` of a `kind` op is a weight, bias or state (see PARAM_SLOTS)."""
    return slot in PARAM_SLOTS.get(kind, ())


def quantize_weights(t: Tensor, name: str, axis: int | None, bias: Tensor | None = None,
                     s_in: float = 1.0, dtype: str = "int8") -> Tensor:
    """Symmetric int8 in [-127, 127] at scale max|w|/127 per channel along `axis` (or tensor);
    dtype "int4": [-7, 7] at max|w|/7 (TFLite's symmetric int4), stored unpacked.

    As TFLite's converter does, a channel whose bias would overflow at s_in * s_w (dead
    channels of folded BatchNorm have |w| ~ 1e-30) gets the larger scale |b| / (s_in * 2^30).
    """
    qmax = WEIGHT_QMAX[dtype]
    w = common.float_weights(t, t.data).astype(np.float64)
    shape = [1] * w.ndim
    if axis is None:
        peak = np.array([np.abs(w).max(initial=0.0)])
    else:
        peak = np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)).max(axis=1)
        shape[axis] = -1
    scale = peak / qmax
    if dtype == "int4":                      # 15 levels: clipping outliers pays off
        rows = w.reshape(1, -1) if axis is None else np.moveaxis(w, axis, 0).reshape(
            w.shape[axis], -1)
        scale = scale * mse_clip(rows, scale, qmax)
    if bias is not None:
        b = np.abs(common.float_weights(bias, bias.data).astype(np.float64))
        need = (b if axis is not None else b.max(initial=0.0, keepdims=True)) / (s_in * BIAS_MAX)
        scale = np.maximum(scale, need)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = round_half_away(w / scale.astype(np.float64).reshape(shape))
    return Tensor(name, t.shape, dtype, np.clip(q, -qmax, qmax).astype(np.int8),
                  QuantParams(scale, np.zeros(scale.size, np.int64), axis))


def mse_clip(rows: np.ndarray, scale: np.ndarray, qmax: int, steps: int = 21) -> np.ndarray:
    """Per row, the factor in [0.5, 1] of `scale` whose symmetric quantization of the row has
    the least squared error (the max-based scale wastes int4's few levels on outliers)."""
    factors = np.linspace(0.5, 1.0, steps)
    s = np.maximum(scale, 1e-30)[None, :, None] * factors[:, None, None]
    err = ((np.clip(round_half_away(rows[None] / s), -qmax, qmax) * s - rows[None]) ** 2)
    return factors[np.argmin(err.sum(axis=2), axis=0)]


def quantize_bias(t: Tensor, name: str, s_in: float, s_w: np.ndarray,
                  dtype: str = "int32") -> Tensor:
    """int32 bias (int64 for 16x8 ops) at scale s_in * s_w[c], zp 0, rounded half away."""
    scale = (np.float32(s_in) * np.asarray(s_w, np.float32)).astype(np.float32)
    q = round_half_away(np.asarray(t.data, np.float64) / scale.astype(np.float64))
    axis = 0 if scale.size > 1 else None
    lim = np.iinfo(dtype)
    return Tensor(name, t.shape, dtype, np.clip(q, max(lim.min, -2.0**62), min(lim.max, 2.0**62))
                  .astype(dtype), QuantParams(scale, np.zeros(scale.size, np.int64), axis))
