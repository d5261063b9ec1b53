"""Keras layer -> fitml ops: one converter per layer class, registered with `@layer`.

Keras's own semantics are TFLite's (NHWC, SAME/VALID windows), so most layers map to one op.
BatchNormalization becomes MUL + ADD by constant vectors and activations stay separate ops
unless the op can fuse them; the cleanup passes fold and fuse afterwards.

This module: the config and op helpers the converter modules share, and the convolutions,
Dense and BatchNormalization. The others: keras_activations.py, keras_pool_layers.py and
keras_shape_layers.py (the registry and builder: keras_builder.py).
"""
from __future__ import annotations

import numpy as np

from .keras_builder import KerasBuilder, Layer, fused, layer


# --- helpers -------------------------------------------------------------------------------------
def pair(value, default=(1, 1)) -> tuple[int, int]:
    if value is None:
        return default
    if isinstance(value, int):
        return (value, value)
    return tuple(int(v) for v in value)


def padding(b: KerasBuilder, L: Layer) -> str:
    pad = str(L.get("padding", "valid")).upper()
    if pad not in ("SAME", "VALID"):
        raise b.error(f"padding {pad.lower()!r} is not supported (same, valid)")
    return pad


def channels_last(b: KerasBuilder, L: Layer) -> None:
    if L.get("data_format", "channels_last") != "channels_last":
        raise b.error(f"data_format {L.get('data_format')!r} is not supported "
                      "(channels_last only)")


def positive_axis(b: KerasBuilder, axis, rank: int) -> int:
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise b.error(f"axis {list(axis)}: only one axis is supported")
        axis = axis[0]
    if not -rank <= int(axis) < rank:
        raise b.error(f"axis {axis} out of range for rank {rank}")
    return int(axis) % rank


def reshape(b: KerasBuilder, x: str, shape, suffix: str = "") -> str:
    shape = [int(d) for d in shape]
    operand = b.const(np.array(shape, np.int32), f"{b.layer.name}/shape", "int32")
    return b.emit("RESHAPE", [x, operand], dict(new_shape=tuple(shape)), suffix)


def chain(b: KerasBuilder, kind: str, xs: list[str], suffix: str = "") -> str:
    """kind(...kind(kind(x0, x1), x2)...) for the n-ary Keras merge layers."""
    if len(xs) < 2:
        raise b.error(f"needs at least two inputs, got {len(xs)}")
    out = xs[0]
    for i, x in enumerate(xs[1:], 2):
        out = b.emit(kind, [out, x], dict(activation="NONE"),
                     suffix if i == len(xs) else f"{suffix}/{i}")
    return out


def scale_shift(b: KerasBuilder, x: str, scale, shift, shape) -> str:
    """x * scale + shift with constant vectors reshaped to broadcast along one axis."""
    s = b.const(np.reshape(scale, shape), f"{b.layer.name}/scale")
    x = b.emit("MUL", [x, s], dict(activation="NONE"), "/scaled")
    t = b.const(np.reshape(shift, shape), f"{b.layer.name}/shift")
    return b.emit("ADD", [x, t], dict(activation="NONE"))


# --- convolutions and dense ----------------------------------------------------------------------
def window_attrs(b: KerasBuilder, L: Layer) -> dict:
    channels_last(b, L)
    return dict(padding=padding(b, L), stride=pair(L.get("strides")),
                dilation=pair(L.get("dilation_rate")))


def conv_bias(b: KerasBuilder, L: Layer, w: list, index: int, channels: int) -> str:
    """The bias constant; zeros without use_bias (LiteRT's float CONV_2D needs one)."""
    value = w[index] if L.get("use_bias", True) else np.zeros(channels, np.float32)
    return b.const(value, f"{L.name}/bias")


@layer("Conv2D", "Convolution2D", needs=("CONV_2D",))
def conv2d(b: KerasBuilder, L: Layer, ins):
    w = L.weights()
    filt = b.const(w[0].transpose(3, 0, 1, 2), f"{L.name}/kernel")   # [O, KH, KW, I/groups]
    bias = conv_bias(b, L, w, 1, w[0].shape[3])
    return [fused(b, L, "CONV_2D", [ins[0], filt, bias], window_attrs(b, L))]


@layer("Conv2DTranspose", "Convolution2DTranspose", needs=("TRANSPOSE_CONV",))
def conv2d_transpose(b: KerasBuilder, L: Layer, ins):
    """TRANSPOSE_CONV to Keras's output size (deconv_output_length); TFLite's SAME / VALID
    place the rows as tf.nn.conv2d_transpose does."""
    attrs = window_attrs(b, L)
    if attrs.pop("dilation") != (1, 1):
        raise b.error(f"dilation_rate {list(pair(L.get('dilation_rate')))} is not supported "
                      "(1 only)")
    w = L.weights()
    kh, kw, cout, _ = w[0].shape
    n, h, wd, _ = b.shape(ins[0])
    extra = L.get("output_padding")
    hw = []
    for size, k, s, e in zip((h, wd), (kh, kw), attrs["stride"],
                             (None, None) if extra is None else pair(extra)):
        if e is None:
            hw.append(size * s + (max(k - s, 0) if attrs["padding"] == "VALID" else 0))
        else:
            hw.append((size - 1) * s + k - 2 * (k // 2 if attrs["padding"] == "SAME" else 0) + e)
    shape = b.const(np.array([n, *hw, cout], np.int32), f"{L.name}/output_shape", "int32")
    filt = b.const(w[0].transpose(2, 0, 1, 3), f"{L.name}/kernel")   # [O, KH, KW, I]
    bias = conv_bias(b, L, w, 1, cout)
    return [fused(b, L, "TRANSPOSE_CONV", [shape, filt, ins[0], bias], attrs)]


def depthwise(b: KerasBuilder, L: Layer, x: str, kernel: np.ndarray, bias: str, act: bool):
    kh, kw, c, dm = kernel.shape          # output channel c*dm + m, as TFLite's filter order
    filt = b.const(kernel.reshape(1, kh, kw, c * dm), f"{L.name}/depthwise_kernel")
    attrs = dict(window_attrs(b, L), depth_multiplier=int(dm))
    if act:
        return fused(b, L, "DEPTHWISE_CONV_2D", [x, filt, bias], attrs)
    return b.emit("DEPTHWISE_CONV_2D", [x, filt, bias], dict(attrs, activation="NONE"),
                  "/depthwise")


@layer("DepthwiseConv2D", needs=("DEPTHWISE_CONV_2D",))
def depthwise_conv2d(b: KerasBuilder, L: Layer, ins):
    w = L.weights()
    bias = conv_bias(b, L, w, 1, w[0].shape[2] * w[0].shape[3])
    return [depthwise(b, L, ins[0], w[0], bias, act=True)]


@layer("SeparableConv2D", "SeparableConvolution2D", needs=("DEPTHWISE_CONV_2D", "CONV_2D"))
def separable_conv2d(b: KerasBuilder, L: Layer, ins):
    """Depthwise (no bias, no activation) then a 1x1 CONV_2D with the bias and activation."""
    w = L.weights()
    zeros = b.const(np.zeros(w[1].shape[2], np.float32), f"{L.name}/depthwise_bias")
    mid = depthwise(b, L, ins[0], w[0], zeros, act=False)
    filt = b.const(w[1].transpose(3, 0, 1, 2), f"{L.name}/pointwise_kernel")
    bias = conv_bias(b, L, w, 2, w[1].shape[3])
    attrs = dict(padding="VALID", stride=(1, 1), dilation=(1, 1))
    return [fused(b, L, "CONV_2D", [mid, filt, bias], attrs)]


@layer("Dense", needs=("FULLY_CONNECTED",))
def dense(b: KerasBuilder, L: Layer, ins):
    """FULLY_CONNECTED; on rank > 2 inputs it keeps the leading dims (keep_num_dims)."""
    w = L.weights()
    filt = b.const(w[0].T, f"{L.name}/kernel")                     # [units, K]
    bias = b.const(w[1], f"{L.name}/bias") if L.get("use_bias", True) else ""
    attrs = dict(keep_num_dims=len(b.shape(ins[0])) > 2)
    return [fused(b, L, "FULLY_CONNECTED", [ins[0], filt, bias], attrs)]


@layer("BatchNormalization", needs=("MUL", "ADD"))
def batch_norm(b: KerasBuilder, L: Layer, ins):
    """Inference BatchNorm: x * gamma/sqrt(var + eps) + (beta - mean * that)."""
    rank = len(b.shape(ins[0]))
    axis = positive_axis(b, L.get("axis", -1), rank)
    w = [v.astype(np.float64) for v in L.weights()]
    gamma = w.pop(0) if L.get("scale", True) else 1.0
    beta = w.pop(0) if L.get("center", True) else 0.0
    mean, var = w
    scale = gamma / np.sqrt(var + float(L.get("epsilon", 1e-3)))
    shape = (-1,) + (1,) * (rank - 1 - axis)
    return [scale_shift(b, ins[0], scale, beta - mean * scale, shape)]
