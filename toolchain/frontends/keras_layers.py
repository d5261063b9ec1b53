"""Keras layer -> fitml ops: one converter per layer class, registered with `@layer`.

Keras's own semantics are TFLite's (NHWC, SAME/VALID windows), so most layers map to one op.
BatchNormalization becomes MUL + ADD by constant vectors and activations stay separate ops
unless the op can fuse them; the cleanup passes fold and fuse afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import ModelError
from ..ir import GraphError, Op, Tensor
from ..ops import registry

# class name -> (converter(builder, layer, inputs) -> outputs, op kinds it needs)
LAYERS: dict[str, tuple[Callable, tuple[str, ...]]] = {}
ACTIVATIONS: dict[str, tuple[Callable, tuple[str, ...]]] = {}
FUSABLE = {"relu": "RELU", "relu6": "RELU6"}  # fused activations TFLite's int8 kernels support


def layer(*classes: str, needs: tuple[str, ...] = ()):
    """Register a converter for Keras layer classes; `needs`: op kinds it emits."""
    def wrap(fn):
        for c in classes:
            LAYERS[c] = (fn, needs)
        return fn
    return wrap


def activation(*names: str, needs: tuple[str, ...] = ()):
    """Register an activation function (by its Keras name) as ops on one tensor."""
    def wrap(fn):
        for n in names:
            ACTIVATIONS[n] = (fn, needs)
        return fn
    return wrap


def available(table: dict) -> list[str]:
    """Keys whose required op kinds are all registered."""
    have = registry.all_defs()
    return sorted(k for k, (_, needs) in table.items() if all(n in have for n in needs))


@dataclass
class Layer:
    """One Keras layer being converted: class, name, config and the loaded layer object."""

    cls: str
    name: str
    config: dict
    obj: Any

    def get(self, key: str, default: Any = None) -> Any:
        value = self.config.get(key, default)
        return default if value is None else value

    def weights(self) -> list[np.ndarray]:
        return [np.asarray(w, np.float32) for w in self.obj.get_weights()]


class KerasBuilder:
    """Accumulates tensors and ops; converters call `const`, `emit` and `error`."""

    def __init__(self, where: str, keras2: bool):
        self.where, self.keras2 = where, keras2
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.layer: Layer | None = None

    def error(self, message: str) -> ModelError:
        at = f" layer {self.layer.name!r} ({self.layer.cls})" if self.layer else ""
        return ModelError(f"{self.where}:{at}: {message}")

    def fresh(self, base: str) -> str:
        name, i = base, 1
        while name in self.tensors:
            name, i = f"{base}_{i}", i + 1
        return name

    def shape(self, name: str) -> tuple[int, ...]:
        return self.tensors[name].shape

    def add_input(self, name: str, shape) -> str:
        name = self.fresh(name)
        self.tensors[name] = Tensor(name, tuple(shape), "float32")
        return name

    def const(self, array, base: str, dtype: str = "float32") -> str:
        name = self.fresh(base)
        data = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        self.tensors[name] = Tensor(name, data.shape, dtype, data=data)
        return name

    def emit(self, kind: str, inputs, attrs: dict | None = None, suffix: str = "") -> str:
        """Append one op; its output shape is the registry's inference."""
        if kind not in registry.all_defs():
            raise self.error(f"needs op {kind}, which fitml does not implement")
        op = Op(kind, tuple(inputs), ("",), attrs or {}, name=self.layer.name)
        try:
            (shape, dtype), = registry.get(kind).infer(op, [self.tensors.get(n) for n in inputs])
        except GraphError as exc:
            raise self.error(str(exc)) from None
        out = self.fresh(self.layer.name + suffix)
        self.tensors[out] = Tensor(out, shape, dtype)
        self.ops.append(op.replace(outputs=(out,)))
        return out


def act_name(L: Layer, key: str = "activation") -> str:
    """The Keras name of the layer's activation function ("linear" when none)."""
    value = L.config.get(key) or "linear"
    if not isinstance(value, str):             # Keras 3 may serialize a function as a dict
        value = getattr(getattr(L.obj, key, None), "__name__", repr(value))
    return value


def apply_activation(b: KerasBuilder, x: str, name: str, suffix: str = "") -> str:
    if name not in ACTIVATIONS:
        raise b.error(f"activation {name!r} is not supported; supported: "
                      f"{', '.join(available(ACTIVATIONS))}")
    return ACTIVATIONS[name][0](b, x, suffix)


def fused(b: KerasBuilder, L: Layer, kind: str, inputs, attrs: dict) -> str:
    """An op with a fused activation when TFLite has it, else op + activation op."""
    act = act_name(L)
    if act in FUSABLE:
        return b.emit(kind, inputs, dict(attrs, activation=FUSABLE[act]))
    if act == "linear":
        return b.emit(kind, inputs, dict(attrs, activation="NONE"))
    pre = b.emit(kind, inputs, dict(attrs, activation="NONE"), "/preact")
    return apply_activation(b, pre, act)


# --- activation functions ----------------------------------------------------------------------
def _unary(kind: str, attrs: dict | None = None):
    return lambda b, x, suffix: b.emit(kind, [x], attrs, suffix)


activation("linear")(lambda b, x, suffix: x)
activation("relu", needs=("RELU",))(_unary("RELU"))
activation("relu6", needs=("RELU6",))(_unary("RELU6"))
activation("sigmoid", needs=("LOGISTIC",))(_unary("LOGISTIC"))
activation("tanh", needs=("TANH",))(_unary("TANH"))
activation("hard_swish", "hard_silu", needs=("HARD_SWISH",))(_unary("HARD_SWISH"))
activation("leaky_relu", needs=("LEAKY_RELU",))(_unary("LEAKY_RELU", dict(alpha=0.2)))


@activation("softmax", needs=("SOFTMAX",))
def _softmax(b: KerasBuilder, x: str, suffix: str) -> str:
    return b.emit("SOFTMAX", [x], dict(beta=1.0), suffix)


@activation("swish", "silu", needs=("LOGISTIC", "MUL"))
def _swish(b: KerasBuilder, x: str, suffix: str) -> str:
    gate = b.emit("LOGISTIC", [x], None, suffix + "/sigmoid")
    return b.emit("MUL", [x, gate], dict(activation="NONE"), suffix)


@activation("hard_sigmoid", needs=("MUL", "ADD"))
def _hard_sigmoid(b: KerasBuilder, x: str, suffix: str) -> str:
    """Keras 2: clip(0.2x + 0.5, 0, 1) = relu6(1.2x + 3) / 6; Keras 3: relu6(x + 3) / 6."""
    if b.keras2:
        x = b.emit("MUL", [x, b.const(1.2, f"{b.layer.name}/k")], dict(activation="NONE"),
                   suffix + "/scaled")
    x = b.emit("ADD", [x, b.const(3.0, f"{b.layer.name}/three")], dict(activation="RELU6"),
               suffix + "/shifted")
    return b.emit("MUL", [x, b.const(1 / 6, f"{b.layer.name}/sixth")],
                  dict(activation="NONE"), suffix)


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


# --- activations ---------------------------------------------------------------------------------
@layer("Activation")
def activation_layer(b: KerasBuilder, L: Layer, ins):
    return [apply_activation(b, ins[0], act_name(L))]


@layer("ReLU", needs=("RELU",))
def relu_layer(b: KerasBuilder, L: Layer, ins):
    top, slope = L.get("max_value"), float(L.get("negative_slope", 0.0))
    if float(L.get("threshold", 0.0)) == 0 and slope == 0 and top in (None, 6, 6.0):
        return [b.emit("RELU" if top is None else "RELU6", [ins[0]])]
    if float(L.get("threshold", 0.0)) == 0 and top is None:
        return [b.emit("LEAKY_RELU", [ins[0]], dict(alpha=slope))]
    raise b.error(f"ReLU(max_value={top}, negative_slope={slope}, threshold="
                  f"{L.get('threshold')}) is not supported (plain ReLU, ReLU6, leaky)")


@layer("LeakyReLU", needs=("LEAKY_RELU",))
def leaky_relu_layer(b: KerasBuilder, L: Layer, ins):
    alpha = L.get("alpha", L.get("negative_slope", 0.3))
    return [b.emit("LEAKY_RELU", [ins[0]], dict(alpha=float(alpha)))]


@layer("Softmax", needs=("SOFTMAX",))
def softmax_layer(b: KerasBuilder, L: Layer, ins):
    rank = len(b.shape(ins[0]))
    if positive_axis(b, L.get("axis", -1), rank) != rank - 1:
        raise b.error("softmax over a non-last axis is not supported")
    return [b.emit("SOFTMAX", [ins[0]], dict(beta=1.0))]


# --- pooling -------------------------------------------------------------------------------------
def pool(kind: str):
    def convert(b: KerasBuilder, L: Layer, ins):
        channels_last(b, L)
        size = pair(L.get("pool_size"), (2, 2))
        attrs = dict(filter=size, stride=pair(L.get("strides"), size), padding=padding(b, L),
                     activation="NONE")
        return [b.emit(kind, [ins[0]], attrs)]
    return convert


def global_pool(kind: str):
    """A window over the whole map, then RESHAPE to [N, C] unless keepdims."""
    def convert(b: KerasBuilder, L: Layer, ins):
        channels_last(b, L)
        n, h, w, c = b.shape(ins[0])
        attrs = dict(filter=(h, w), stride=(h, w), padding="VALID", activation="NONE")
        if L.get("keepdims", False):
            return [b.emit(kind, [ins[0]], attrs)]
        return [reshape(b, b.emit(kind, [ins[0]], attrs, "/pool"), (n, c))]
    return convert


layer("MaxPooling2D", "MaxPool2D", needs=("MAX_POOL_2D",))(pool("MAX_POOL_2D"))
layer("AveragePooling2D", "AvgPool2D", needs=("AVERAGE_POOL_2D",))(pool("AVERAGE_POOL_2D"))
layer("GlobalAveragePooling2D", "GlobalAvgPool2D",
      needs=("AVERAGE_POOL_2D", "RESHAPE"))(global_pool("AVERAGE_POOL_2D"))
layer("GlobalMaxPooling2D", "GlobalMaxPool2D",
      needs=("MAX_POOL_2D", "RESHAPE"))(global_pool("MAX_POOL_2D"))


@layer("GlobalAveragePooling1D", "GlobalAvgPool1D", needs=("MEAN",))
def global_average_1d(b: KerasBuilder, L: Layer, ins):
    channels_last(b, L)
    axis = b.const(np.array([1], np.int32), f"{L.name}/axis", "int32")
    return [b.emit("MEAN", [ins[0], axis], dict(keep_dims=bool(L.get("keepdims", False))))]


# --- shape ---------------------------------------------------------------------------------------
@layer("Flatten", needs=("RESHAPE",))
def flatten(b: KerasBuilder, L: Layer, ins):
    shape = b.shape(ins[0])
    return [reshape(b, ins[0], (shape[0], int(np.prod(shape[1:], dtype=np.int64))))]


@layer("Reshape", needs=("RESHAPE",))
def reshape_layer(b: KerasBuilder, L: Layer, ins):
    shape = b.shape(ins[0])
    target = [int(d) for d in L.get("target_shape")]
    if target.count(-1) == 1:
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        target[target.index(-1)] = int(np.prod(shape[1:], dtype=np.int64)) // max(known, 1)
    return [reshape(b, ins[0], (shape[0], *target))]


@layer("Permute", needs=("TRANSPOSE",))
def permute(b: KerasBuilder, L: Layer, ins):
    perm = b.const(np.array([0, *L.get("dims")], np.int32), f"{L.name}/perm", "int32")
    return [b.emit("TRANSPOSE", [ins[0], perm])]


@layer("ZeroPadding2D", needs=("PAD",))
def zero_padding(b: KerasBuilder, L: Layer, ins):
    channels_last(b, L)
    pad = L.get("padding", ((1, 1), (1, 1)))
    if isinstance(pad, int):
        pad = ((pad, pad), (pad, pad))
    pad = [pair(p) if not isinstance(p, int) else (p, p) for p in pad]
    paddings = np.array([(0, 0), *pad, (0, 0)], np.int32)
    return [b.emit("PAD", [ins[0], b.const(paddings, f"{L.name}/paddings", "int32")])]


# --- merges --------------------------------------------------------------------------------------
layer("Add", needs=("ADD",))(lambda b, L, ins: [chain(b, "ADD", list(ins))])
layer("Multiply", needs=("MUL",))(lambda b, L, ins: [chain(b, "MUL", list(ins))])
layer("Maximum", needs=("MAXIMUM",))(lambda b, L, ins: [chain(b, "MAXIMUM", list(ins))])
layer("Minimum", needs=("MINIMUM",))(lambda b, L, ins: [chain(b, "MINIMUM", list(ins))])


@layer("Subtract", needs=("SUB",))
def subtract(b: KerasBuilder, L: Layer, ins):
    if len(ins) != 2:
        raise b.error(f"Subtract needs exactly two inputs, got {len(ins)}")
    return [b.emit("SUB", list(ins), dict(activation="NONE"))]


@layer("Average", needs=("ADD", "MUL"))
def average(b: KerasBuilder, L: Layer, ins):
    total = chain(b, "ADD", list(ins), "/sum")
    k = b.const(np.float32(1.0 / len(ins)), f"{L.name}/reciprocal")
    return [b.emit("MUL", [total, k], dict(activation="NONE"))]


@layer("Concatenate", needs=("CONCATENATION",))
def concatenate(b: KerasBuilder, L: Layer, ins):
    axis = positive_axis(b, L.get("axis", -1), len(b.shape(ins[0])))
    return [b.emit("CONCATENATION", list(ins), dict(axis=axis, activation="NONE"))]


# --- identities and preprocessing ---------------------------------------------------------------
layer("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout",
      "GaussianDropout", "GaussianNoise", "ActivityRegularization",
      "Identity")(lambda b, L, ins: list(ins))


@layer("Rescaling", needs=("MUL", "ADD"))
def rescaling(b: KerasBuilder, L: Layer, ins):
    scale = np.asarray(L.get("scale", 1.0), np.float32)
    offset = np.asarray(L.get("offset", 0.0), np.float32)
    x = ins[0]
    if np.any(scale != 1):
        x = b.emit("MUL", [x, b.const(scale, f"{L.name}/scale")], dict(activation="NONE"),
                   "/scaled" if np.any(offset != 0) else "")
    if np.any(offset != 0):
        x = b.emit("ADD", [x, b.const(offset, f"{L.name}/offset")], dict(activation="NONE"))
    return [x]
