"""ONNX converters of element-wise ops: Add/Sub/Mul/Div, BatchNormalization and the
activations (Relu, Sigmoid, Tanh, HardSwish, LeakyRelu, PRelu, Clip, HardSigmoid); CumSum."""
from __future__ import annotations

import numpy as np

from .onnx_build import Builder
from .onnx_node import NHWC, OnnxNode, converter, identity
from .onnx_windows import FLOAT_LOWEST


# --- element-wise -------------------------------------------------------------------------------
def layout(b: Builder, names, rank: int) -> tuple[int, ...]:
    """The stored layout of the operands' full-rank activations (NHWC first), else ONNX
    order: element-wise ops then need no transposes."""
    perms = [b.values[nm].perm for nm in names if nm in b.values]
    perms = [p for p in perms if len(p) == rank and p != identity(rank)]
    return NHWC if NHWC in perms else perms[0] if perms else identity(rank)


def binary(b: Builder, n: OnnxNode, kind: str, lhs: str, rhs: str, out: str | None = None,
           activation: str = "NONE") -> str:
    """An element-wise op with numpy broadcasting, in its operands' stored layout."""
    rank = max(len(b.shape(lhs)), len(b.shape(rhs)))
    perm = layout(b, (lhs, rhs), rank)
    ins = [b.operand(lhs, rank, perm), b.operand(rhs, rank, perm)]
    return b.emit(kind, ins, dict(activation=activation), out=out, perm=perm,
                  base=f"{n.outputs[0]}_{kind.lower()}")


@converter("Add", "Sub", "Mul", "Div")
def arithmetic(b: Builder, n: OnnxNode):
    x, y = n.input(0), n.input(1)
    kind = {"Add": "ADD", "Sub": "SUB", "Mul": "MUL", "Div": "DIV"}[n.op_type]
    if kind in ("SUB", "DIV") and b.is_const(y) and y not in b.qconsts:
        # x - c = x + (-c) and x / c = x * (1/c): forms the passes fold into a conv/FC
        c = b.const(y).astype(np.float64)
        y = b.add_const(-c if kind == "SUB" else 1.0 / c, f"{y}_{kind.lower()}")
        kind = "ADD" if kind == "SUB" else "MUL"
    binary(b, n, kind, x, y, out=n.outputs[0])


@converter("BatchNormalization")
def batch_norm(b: Builder, n: OnnxNode):
    """Inference BatchNorm as MUL + ADD per channel (axis 1); passes fold it into a conv."""
    if n.attr("training_mode", 0) or any(n.outputs[1:]):
        raise b.error("BatchNormalization in training mode is not supported")
    x = n.input(0)
    gamma, beta, mean, var = (b.const(n.input(i)).astype(np.float64) for i in range(1, 5))
    scale = gamma / np.sqrt(var + n.attr("epsilon", 1e-5))
    shift = beta - mean * scale
    chan = (-1,) + (1,) * (len(b.shape(x)) - 2)
    s = b.add_const(scale.reshape(chan), f"{n.outputs[0]}_scale")
    t = b.add_const(shift.reshape(chan), f"{n.outputs[0]}_shift")
    scaled = b.fresh(f"{n.outputs[0]}_scaled")
    binary(b, n, "MUL", x, s, out=scaled)
    binary(b, n, "ADD", scaled, t, out=n.outputs[0])


# --- activations --------------------------------------------------------------------------------
def unary(b: Builder, n: OnnxNode, kind: str, attrs: dict | None = None) -> None:
    """A one-input element-wise op, in its input's stored layout."""
    v = b.value(n.input(0))
    b.emit(kind, [v.tensor], attrs, out=n.outputs[0], perm=v.perm)


UNARY = {"Relu": "RELU", "Sigmoid": "LOGISTIC", "Tanh": "TANH", "HardSwish": "HARD_SWISH"}


@converter(*UNARY)
def simple_activation(b: Builder, n: OnnxNode):
    unary(b, n, UNARY[n.op_type])


@converter("LeakyRelu")
def leaky_relu(b: Builder, n: OnnxNode):
    unary(b, n, "LEAKY_RELU", dict(alpha=float(n.attr("alpha", 0.01))))


@converter("Elu")
def elu(b: Builder, n: OnnxNode):
    alpha = float(n.attr("alpha", 1.0))
    if alpha != 1.0:
        raise b.error(f"Elu with alpha {alpha} is not supported (TFLite's ELU has alpha 1)")
    unary(b, n, "ELU")


@converter("PRelu")
def prelu(b: Builder, n: OnnxNode):
    """One constant slope: LEAKY_RELU; else PRELU with the slope broadcast in stored layout."""
    if b.is_const(n.input(1)) and np.unique(b.const(n.input(1))).size == 1:
        unary(b, n, "LEAKY_RELU", dict(alpha=float(b.const(n.input(1)).reshape(-1)[0])))
        return
    binary(b, n, "PRELU", n.input(0), n.input(1), out=n.outputs[0])


CLIP_KINDS = {(0.0, np.inf): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}


@converter("Clip")
def clip(b: Builder, n: OnnxNode):
    if b.opset < 11:
        lo, hi = n.attr("min", -np.inf), n.attr("max", np.inf)
    else:
        lo = float(b.const(n.input(1)).reshape(-1)[0]) if n.input(1) else -np.inf
        hi = float(b.const(n.input(2)).reshape(-1)[0]) if n.input(2) else np.inf
    lo = -np.inf if lo <= FLOAT_LOWEST else float(lo)
    hi = np.inf if hi >= -FLOAT_LOWEST else float(hi)
    if (lo, hi) == (-np.inf, np.inf):
        b.values[n.outputs[0]] = b.value(n.input(0))
        return
    kind = CLIP_KINDS.get((lo, hi))
    if kind is None:
        raise b.error(f"Clip to [{lo}, {hi}] is not supported; only [0, inf) (RELU), [0, 6] "
                      "(RELU6) and [-1, 1] (RELU_N1_TO_1)")
    if kind == "RELU_N1_TO_1":   # no standalone op in TFLM: ADD 0 with the fused clamp
        zero = b.add_const(np.zeros((), np.float32), f"{n.outputs[0]}_zero")
        binary(b, n, "ADD", n.input(0), zero, out=n.outputs[0], activation=kind)
        return
    unary(b, n, kind)


@converter("HardSigmoid")
def hard_sigmoid(b: Builder, n: OnnxNode):
    """clamp(a*x + b, 0, 1) = RELU6(6a*x + 6b) / 6."""
    alpha, beta = float(n.attr("alpha", 0.2)), float(n.attr("beta", 0.5))
    out = n.outputs[0]
    c = {k: b.add_const(np.float32(v), f"{out}_{k}")
         for k, v in (("6a", 6 * alpha), ("6b", 6 * beta), ("sixth", 1 / 6))}
    scaled, clamped = b.fresh(f"{out}_scaled"), b.fresh(f"{out}_relu6")
    binary(b, n, "MUL", n.input(0), c["6a"], out=scaled)
    binary(b, n, "ADD", scaled, c["6b"], out=clamped, activation="RELU6")
    binary(b, n, "MUL", clamped, c["sixth"], out=out)


# --- running sums -------------------------------------------------------------------------------
@converter("CumSum")
def cumsum(b: Builder, n: OnnxNode):
    """CUMSUM along the constant axis, in the input's stored layout."""
    x = n.input(0)
    v, rank = b.value(x), len(b.shape(x))
    axis = b.const(n.input(1)).reshape(-1)
    if axis.size != 1 or not -rank <= int(axis[0]) < rank:
        raise b.error(f"CumSum axis {axis.tolist()} must be one value in [-{rank}, {rank})")
    stored = v.perm.index(int(axis[0]) % rank)
    axis_t = b.const_tensor(np.array([stored], np.int32), f"{n.outputs[0]}_axis")
    b.emit("CUMSUM", [v.tensor, axis_t], dict(exclusive=bool(n.attr("exclusive", 0)),
                                              reverse=bool(n.attr("reverse", 0))),
           out=n.outputs[0], perm=v.perm)
