"""The arithmetic TFLite's kernels share beyond fixed point: a tensor's (scale, zero point),
requantization of accumulators, fused-activation clamps, output sizes and padding.

Op references (ops/) and their C lowerings (lowering/) both compute with these, so the C
kernels see exactly the integers the numpy spec computes with; ops/common.py re-exports them.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError, Tensor
from . import fixedpoint as fp


def out_size(size: int, filt: int, stride: int, dilation: int, padding: str) -> int:
    """Output extent along one spatial dim (TFLite ComputeOutSize)."""
    eff = (filt - 1) * dilation + 1
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size + stride - eff) // stride


def pad_before(size: int, filt: int, stride: int, dilation: int, out: int) -> int:
    """Leading padding (TFLite ComputePaddingHeightWidth); odd extra falls at the end."""
    eff = (filt - 1) * dilation + 1
    return max(0, (out - 1) * stride + eff - size) // 2


def explicit_out_size(size: int, filt: int, stride: int, dilation: int, before: int,
                      after: int) -> int:
    """Output extent of a window over `size` padded by `before` and `after` (VALID on the
    padded extent)."""
    return (size + before + after - ((filt - 1) * dilation + 1)) // stride + 1


def reached_pads(size: int, filt: int, stride: int, dilation: int, out: int,
                 before: int) -> tuple[int, int]:
    """(before, after): the trailing padding is only what the last window reaches."""
    eff = (filt - 1) * dilation + 1
    return before, max(0, (out - 1) * stride + eff - size - before)


def window_pads(op, in_hw, kernel, stride, dilation, out_hw) -> tuple[tuple[int, int], ...]:
    """((top, bottom), (left, right)) a windowed op (an Op or Node) pads its input with: its
    `explicit_padding` when `padding` is EXPLICIT, else TFLite's SAME/VALID rule (odd extra at
    the end); bottom and right only as far as a window reaches."""
    explicit = op.attr("explicit_padding") if op.attr("padding", "SAME") == "EXPLICIT" else None
    return tuple(reached_pads(i, k, s, d, o, int(explicit[a][0]) if explicit is not None
                              else pad_before(i, k, s, d, o))
                 for a, (i, k, s, d, o) in enumerate(zip(in_hw, kernel, stride, dilation,
                                                         out_hw)))


def qparams(t: Tensor) -> tuple[float, int]:
    """(scale, zero point) of a per-tensor quantized tensor."""
    if t.quant is None:
        raise GraphError(f"tensor {t.name!r} has no quantization parameters")
    return t.quant.s, t.quant.zp


def requantize(acc: np.ndarray, multiplier, shift, zp_out: int, lo: int, hi: int,
               channel_axis: int = -1) -> np.ndarray:
    """int32 accumulator -> int8: MBQM per channel (last axis by default), + zp_out, clamp."""
    m = np.asarray(multiplier, np.int64)
    s = np.asarray(shift, np.int64)
    if m.ndim and channel_axis != -1:
        shape = [1] * acc.ndim
        shape[channel_axis] = -1
        m, s = m.reshape(shape), s.reshape(shape)
    out = fp.mbqm(acc, m, s) + zp_out
    return np.clip(out, lo, hi).astype(np.int8)


def conv_multipliers(s_in: float, s_w: np.ndarray, s_out: float, channels: int):
    """Per-channel (M, shift): m_c = (double)s_in * (double)s_w[c] / (double)s_out."""
    s_w = np.broadcast_to(np.asarray(s_w, np.float32), (channels,))
    real = (np.float64(s_in) * s_w.astype(np.float64)) / np.float64(s_out)
    return fp.quantize_multipliers(real)


def output_bounds(node_act: str, out: Tensor) -> tuple[int, int]:
    """Clamp range of an int8 output with a fused activation."""
    s, zp = qparams(out)
    return fp.activation_bounds(node_act, s, zp)


def float_clamp(x: np.ndarray, activation: str) -> np.ndarray:
    """Fused activation of float conv/FC/pool outputs as TFLite applies it.

    TFLite's CalculateActivationRange only knows RELU, RELU6 and RELU_N1_TO_1; any other fused
    activation (TANH, SIGN_BIT) is silently ignored by these kernels, so it is here too.
    """
    lo, hi = {"RELU": (0.0, None), "RELU6": (0.0, 6.0),
              "RELU_N1_TO_1": (-1.0, 1.0)}.get(activation, (None, None))
    x = np.asarray(x, np.float32)
    if lo is not None:
        x = np.maximum(x, np.float32(lo))
    if hi is not None:
        x = np.minimum(x, np.float32(hi))
    return x
