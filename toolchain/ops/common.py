"""Helpers shared by op definitions: TFLite enums, operand checks, dequantized weights; and
(re-exported from arith/kernel_math.py) padding, requantization and I/O quantization."""
from __future__ import annotations

from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..arith.kernel_math import (conv_multipliers, float_clamp, out_size,  # noqa: F401
                                   output_bounds, pad_before, qparams, requantize)
from ..ir import GraphError, Tensor

ACTIVATIONS = {v: k for k, v in vars(schema.ActivationFunctionType).items()
               if not k.startswith("_")}
PADDINGS = {v: k for k, v in vars(schema.Padding).items() if not k.startswith("_")}


def activation_name(code: int) -> str:
    return ACTIVATIONS.get(int(code), f"UNKNOWN({code})")


def activation_code(name: str) -> int:
    return getattr(schema.ActivationFunctionType, name)


class FusedActivationOptions:
    """attrs <-> TFLite options of an op whose only option is its fused activation (ADD, SUB,
    MUL, DIV): the options class is the schema's `<tflite_options>T`."""
    tflite_options: str

    @staticmethod
    def attrs_from_tflite(o):
        return dict(activation=activation_name(options_get(o, "fusedActivationFunction", 0)))

    @classmethod
    def attrs_to_tflite(cls, attrs):
        o = getattr(schema, f"{cls.tflite_options}T")()
        o.fusedActivationFunction = activation_code(attrs.get("activation", "NONE"))
        return o


def padding_name(code: int) -> str:
    return PADDINGS.get(int(code), f"UNKNOWN({code})")


def padding_code(name: str) -> int:
    return getattr(schema.Padding, name)


def need(t: Tensor | None, what: str, op: str) -> Tensor:
    if t is None:
        raise GraphError(f"{op}: missing {what}")
    return t


def options_get(options: Any, field: str, default: Any) -> Any:
    return default if options is None else getattr(options, field, default)


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


def check_left_shift(kind: str, shift: int, real: float, what: str) -> None:
    """TFLite's MultiplyByQuantizedMultiplier shifts left by at most 31 bits."""
    if shift > 31:
        raise GraphError(f"{kind}: {what} {real:g} is too large (its multiplier would shift left "
                         f"by {shift} bits; TFLite allows at most 31)")
