"""ATen activations (RELU, clamps, sigmoid, tanh, hard swish / sigmoid, leaky ReLU, ELU, softmax)
and the pass-through ops (clone, dropout in eval mode, dtype copies) as TFLite ops."""
from __future__ import annotations

import numpy as np

from ..ops import registry
from .torch_builder import Builder
from .torch_common import Value, converter
from .torch_ops import binary

CLAMPS = {(0.0, None): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}


# --- activations -------------------------------------------------------------------------------
def activation(b: Builder, x: Value, act: str) -> Value:
    """RELU / RELU6 as ops; RELU_N1_TO_1 (no standalone TFLM kernel) as ADD(x, 0) carrying
    it. The CLEANUP passes fuse each into the producing op where they can."""
    if act == "RELU_N1_TO_1":
        out = binary(b, "ADD", x, np.float32(0))
        b.ops[-1] = b.ops[-1].replace(attrs=dict(activation=act))
        return out
    return b.emit(act, [x.tensor], perm=x.perm)


@converter("aten.relu.default")
def relu(b, node, x):
    return activation(b, x, "RELU")


@converter("aten.clamp.default", "aten.hardtanh.default", "aten.clamp_min.default")
def clamp(b, node, x, lo=None, hi=None):
    key = (None if lo is None else float(lo), None if hi is None else float(hi))
    if key not in CLAMPS:
        raise b.error(f"clamp to [{lo}, {hi}] has no TFLite activation; supported bounds: "
                      + ", ".join(f"[{a}, {c}]" for a, c in CLAMPS))
    return activation(b, x, CLAMPS[key])


@converter("aten.sigmoid.default")
def sigmoid(b, node, x):
    return b.emit("LOGISTIC", [x.tensor], perm=x.perm)


@converter("aten.tanh.default")
def tanh(b, node, x):
    return b.emit("TANH", [x.tensor], perm=x.perm)


def optional_op(b: Builder, kind: str, what: str):
    if kind not in registry.all_defs():
        raise b.error(f"{what} needs the {kind} op, which fitml does not have (ops: "
                      f"{', '.join(registry.supported())})")


@converter("aten.hardswish.default")
def hardswish(b, node, x):
    optional_op(b, "HARD_SWISH", "hardswish")
    return b.emit("HARD_SWISH", [x.tensor], perm=x.perm)


@converter("aten.leaky_relu.default")
def leaky_relu(b, node, x, slope=0.01):
    optional_op(b, "LEAKY_RELU", "leaky_relu")
    return b.emit("LEAKY_RELU", [x.tensor], dict(alpha=float(slope)), perm=x.perm)


@converter("aten.elu.default")
def elu(b, node, x, alpha=1.0, scale=1.0, input_scale=1.0):
    """F.elu with alpha 1 (TFLite's ELU has no parameters)."""
    if (float(alpha), float(scale), float(input_scale)) != (1.0, 1.0, 1.0):
        raise b.error(f"elu with alpha={alpha}, scale={scale}, input_scale={input_scale} is "
                      "not supported (only alpha 1, as TFLite's ELU)")
    return b.emit("ELU", [x.tensor], perm=x.perm)


@converter("aten.hardsigmoid.default")
def hardsigmoid(b, node, x):
    """relu6(x + 3) / 6, as ADD (fused RELU6) and MUL: TFLite has no hard sigmoid."""
    shifted = activation(b, binary(b, "ADD", x, np.float32(3)), "RELU6")
    return binary(b, "MUL", shifted, np.float32(1) / np.float32(6))


@converter("aten.softmax.int", "aten._softmax.default")
def softmax(b, node, x, dim, _=None):
    dim = int(dim) % len(x.perm)
    perm = tuple(p for p in x.perm if p != dim) + (dim,)
    return b.emit("SOFTMAX", [b.tensor_in(x, perm)], dict(beta=1.0), perm=perm)


@converter("aten.log_softmax.int", "aten._log_softmax.default")
def log_softmax(b, node, x, dim, _=None):
    dim = int(dim) % len(x.perm)
    perm = tuple(p for p in x.perm if p != dim) + (dim,)
    return b.emit("LOG_SOFTMAX", [b.tensor_in(x, perm)], perm=perm)


@converter("aten.clone.default", "aten.alias.default", "aten.detach.default",
           "aten.lift_fresh_copy.default", "aten.contiguous.default")
def same(b, node, x, *_):
    return x


@converter("aten.dropout.default")
def dropout(b, node, x, p=0.5, train=False):
    if train:
        raise b.error("dropout in training mode; call module.eval() first")
    return x


@converter("aten._to_copy.default", "aten.to.dtype")
def to_copy(b, node, x, *_, **__):
    return x   # _check_shape rejects any result that is not float32


@converter("aten._assert_tensor_metadata.default")
def no_op(b, node, *_):
    return None
