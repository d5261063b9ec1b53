"""Keras activation functions (by name, for layers' `activation=`) and activation layers
(Activation, ReLU, LeakyReLU, ELU, PReLU, UnitNormalization, Softmax) as TFLite ops."""
from __future__ import annotations

from .keras_builder import KerasBuilder, Layer, act_name, activation, apply_activation, layer
from .keras_layers import positive_axis


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
activation("elu", needs=("ELU",))(_unary("ELU"))


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


@layer("ELU", needs=("ELU",))
def elu_layer(b: KerasBuilder, L: Layer, ins):
    alpha = float(L.get("alpha", 1.0))
    if alpha != 1.0:
        raise b.error(f"ELU(alpha={alpha}) is not supported (TFLite's ELU has alpha 1)")
    return [b.emit("ELU", [ins[0]])]


@layer("PReLU", needs=("PRELU",))
def prelu_layer(b: KerasBuilder, L: Layer, ins):
    """alpha (the input's shape without batch, 1 on shared axes) broadcasts in PRELU."""
    alpha = b.const(L.weights()[0], L.name + "/alpha")
    return [b.emit("PRELU", [ins[0], alpha])]


@layer("UnitNormalization", needs=("L2_NORMALIZATION",))
def unit_normalization_layer(b: KerasBuilder, L: Layer, ins):
    """x / max(||x||, 1e-6) over the last axis (Keras's epsilon 1e-12 is on the squared sum)."""
    rank = len(b.shape(ins[0]))
    if positive_axis(b, L.get("axis", -1), rank) != rank - 1:
        raise b.error("UnitNormalization over a non-last axis is not supported (TFLite's "
                      "L2_NORMALIZATION normalizes the last axis)")
    return [b.emit("L2_NORMALIZATION", [ins[0]], dict(activation="NONE"))]


@layer("Softmax", needs=("SOFTMAX",))
def softmax_layer(b: KerasBuilder, L: Layer, ins):
    rank = len(b.shape(ins[0]))
    if positive_axis(b, L.get("axis", -1), rank) != rank - 1:
        raise b.error("softmax over a non-last axis is not supported")
    return [b.emit("SOFTMAX", [ins[0]], dict(beta=1.0))]
