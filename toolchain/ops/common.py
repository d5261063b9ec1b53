"""Helpers shared by op definitions: TFLite enums, padding, requantization, I/O quant."""
from __future__ import annotations

from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..ir import GraphError, Tensor
from ..arith import fixedpoint as fp

ACTIVATIONS = {v: k for k, v in vars(schema.ActivationFunctionType).items()
               if not k.startswith("_")}
PADDINGS = {v: k for k, v in vars(schema.Padding).items() if not k.startswith("_")}


def activation_name(code: int) -> str:
    return ACTIVATIONS.get(int(code), f"UNKNOWN({code})")


def activation_code(name: str) -> int:
    return getattr(schema.ActivationFunctionType, name)


def padding_name(code: int) -> str:
    return PADDINGS.get(int(code), f"UNKNOWN({code})")


def padding_code(name: str) -> int:
    return getattr(schema.Padding, name)


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


def need(t: Tensor | None, what: str, op: str) -> Tensor:
    if t is None:
        raise GraphError(f"{op}: missing {what}")
    return t


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


def options_get(options: Any, field: str, default: Any) -> Any:
    return default if options is None else getattr(options, field, default)


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


def const_ints(t: Tensor | None, what: str, op: str) -> np.ndarray:
    """Data of a constant integer operand (shape, paddings, perm, begin...) as int64."""
    t = need(t, what, op)
    if not t.is_const:
        raise GraphError(f"{op}: {what} {t.name!r} must be a constant tensor")
    if t.dtype not in ("int32", "int64"):
        raise GraphError(f"{op}: {what} {t.name!r} must be int32 or int64, not {t.dtype}")
    return np.asarray(t.data, np.int64)


def float_weights(t: Tensor, data: np.ndarray) -> np.ndarray:
    """Weights of a float op as float32; int8/int4 weights (hybrid models) are dequantized.

    TFLite's hybrid kernels quantize the activations on the fly, so they match this float
    semantics only to within quantization error; TFLM has no hybrid kernels at all.
    """
    if t.dtype == "float32":
        return np.asarray(data, np.float32)
    q = t.quant
    if q is None:
        raise GraphError(f"tensor {t.name!r}: {t.dtype} weights of a float op need a scale")
    shape = [1] * len(t.shape)
    if q.axis is not None and q.scale.size > 1:
        shape[q.axis] = -1
    scale = q.scale.astype(np.float32).reshape(shape if q.scale.size > 1 else [])
    zp = (q.zero_point.reshape(shape) if q.zero_point.size > 1 else q.zero_point[0])
    return ((np.asarray(data, np.int64) - zp).astype(np.float32) * scale).astype(np.float32)


def check_weighted(kind: str, ins, outs, channels: int, axis: int) -> bool:
    """The contract weighted ops (depthwise, FC) share: a bias of `channels` accumulator-typed
    values, a scale on hybrid (float input, integer filter) weights, quantized int8 tensors with
    per-channel filter scales along `axis`. True when the op runs the int8 path."""
    x, w, out = ins[0], ins[1], outs[0]
    b = ins[2] if len(ins) > 2 else None
    acc = "float32" if x.dtype == "float32" else "int32"
    if b is not None and (b.shape != (channels,) or b.dtype != acc):
        raise GraphError(f"{kind}: bias must be {channels} values of the accumulator type, got "
                         f"{b.dtype}{list(b.shape)}")
    if x.dtype == "float32":
        if w.dtype != "float32":
            qparams(w)                                  # hybrid: weights need a scale
        return False
    for t in (x, w, out):
        qparams(t)
    q = w.quant
    if q.scale.size > 1 and (q.axis is None or q.axis % len(w.shape) != axis
                             or q.scale.size != channels):
        raise GraphError(f"{kind}: per-channel filter scales must be {channels} along axis "
                         f"{axis}, got {q.scale.size} along axis {q.axis}")
    return True
