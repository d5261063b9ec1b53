"""One converter per ATen op: `fn(builder, fx_node, *schema_args)` -> Value (or a tuple).

Arguments arrive in schema order with defaults filled in: activations as `Value`, parameters
and folded constants as numpy arrays, the rest as Python values. Weights must be constants.
Converters emit the literal translation (BatchNorm as MUL + ADD, RELU as an op); the CLEANUP
pass pipeline folds and fuses afterwards.

This module holds the helpers the converter modules share (constants, broadcasting binary
ops, torch's padding as TFLite windows) and the element-wise converters; the others are
torch_activation_ops.py, torch_conv_ops.py, torch_pool_ops.py and torch_shape_ops.py.
"""
from __future__ import annotations

import numpy as np

from ..ops import common
from .torch_builder import Builder
from .torch_common import Value, converter, identity, target_name


def pair(v) -> tuple[int, int]:
    v = [int(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def const(b: Builder, a, what: str):
    if isinstance(a, Value):
        raise b.error(f"{what} must be a constant (a parameter or buffer), not an activation")
    return None if a is None else np.asarray(a, np.float32)


def window_padding(b: Builder, t: str, in_hw, kernel, stride, dilation, padding, out_hw,
                   fill=None) -> tuple[str, str]:
    """(input tensor, "SAME"/"VALID") reproducing torch's symmetric `padding`.

    SAME when TFLite's rule gives torch's output size and leading padding; else an explicit
    PAD (PADV2 with `fill` for max pooling) before a VALID window."""
    dims = list(zip(in_hw, kernel, stride, dilation, padding, out_hw))
    if all(p == 0 and common.out_size(i, k, s, d, "VALID") == o for i, k, s, d, p, o in dims):
        return t, "VALID"
    if all(common.out_size(i, k, s, d, "SAME") == o and common.pad_before(i, k, s, d, o) == p
           for i, k, s, d, p, o in dims):
        return t, "SAME"
    extra = [max(0, (o - 1) * s + (k - 1) * d + 1 - (i + 2 * p)) for i, k, s, d, p, o in dims]
    p = padding
    pads = [[0, 0], [p[0], p[0] + extra[0]], [p[1], p[1] + extra[1]], [0, 0]]
    return pad(b, t, pads, fill), "VALID"


def pad(b: Builder, t: str, pads, fill=None) -> str:
    """PAD with zeros, or PADV2 with a constant `fill`; `pads` is [[before, after]] per dim."""
    ins = [t, b.const_tensor(np.asarray(pads, np.int32), "paddings")]
    if fill is not None and fill != 0:
        ins.append(b.const_tensor(np.asarray([fill], np.float32), "pad_value"))
    return b.emit("PADV2" if len(ins) > 2 else "PAD", ins, base=f"{t}_pad").tensor


# --- element-wise ------------------------------------------------------------------------------
def operand(b: Builder, x, rank: int, perm) -> str:
    """`x` right-aligned to `rank` dims (torch broadcasting), stored as permute(perm)."""
    if not isinstance(x, Value):
        data = np.asarray(x)
        data = data if data.dtype == np.bool_ else data.astype(np.float32)
        return b.tensor_in(data.reshape((1,) * (rank - data.ndim) + data.shape), perm)
    shape = b.shape(x)
    if len(shape) < rank:
        t = b.reshape(b.tensor_in(x), (1,) * (rank - len(shape)) + shape)
        x = Value(t, identity(rank))
    return b.tensor_in(x, perm)


def binary(b: Builder, kind: str, x, y) -> Value:
    rx, ry = len(b.shape(x)), len(b.shape(y))
    rank = max(rx, ry)
    lead = x if isinstance(x, Value) and (rx == rank or not isinstance(y, Value)) else y
    perm = lead.perm if len(lead.perm) == rank else identity(rank)
    return b.emit(kind, [operand(b, x, rank, perm), operand(b, y, rank, perm)],
                  dict(activation="NONE"), perm=perm)


def scaled(b: Builder, y, alpha):
    if alpha in (None, 1):
        return y
    if isinstance(y, Value):
        return binary(b, "MUL", y, np.float32(alpha))
    return np.asarray(y, np.float32) * np.float32(alpha)


@converter("aten.add.Tensor", "aten.add.Scalar")
def add(b, node, x, y, alpha=1):
    return binary(b, "ADD", x, scaled(b, y, alpha))


@converter("aten.sub.Tensor", "aten.sub.Scalar")
def sub(b, node, x, y, alpha=1):
    return binary(b, "SUB", x, scaled(b, y, alpha))


@converter("aten.rsub.Scalar", "aten.rsub.Tensor")
def rsub(b, node, x, y, alpha=1):
    return binary(b, "SUB", y, scaled(b, x, alpha))


@converter("aten.mul.Tensor", "aten.mul.Scalar")
def mul(b, node, x, y):
    return binary(b, "MUL", x, y)


@converter("aten.div.Tensor", "aten.div.Scalar", "aten.div.Tensor_mode")
def div(b, node, x, y, rounding_mode=None):
    """x / constant as MUL by the reciprocal (foldable); x / activation as DIV;
    rounding_mode "floor" (torch.floor_divide, //) as FLOOR_DIV."""
    if rounding_mode == "floor":
        return binary(b, "FLOOR_DIV", x, y)
    if rounding_mode is not None:
        raise b.error(f"division with rounding_mode={rounding_mode!r} is not supported (only "
                      "true division and 'floor')")
    if isinstance(y, Value):
        return binary(b, "DIV", x, y)
    return binary(b, "MUL", x, np.float32(1) / np.asarray(y, np.float32))


@converter("aten.maximum.default")
def maximum(b, node, x, y):
    return binary(b, "MAXIMUM", x, y)


@converter("aten.minimum.default")
def minimum(b, node, x, y):
    return binary(b, "MINIMUM", x, y)


UNARY = {"aten.abs.default": "ABS", "aten.neg.default": "NEG", "aten.exp.default": "EXP",
         "aten.sqrt.default": "SQRT", "aten.rsqrt.default": "RSQRT"}


@converter(*UNARY)
def elementwise(b, node, x):
    return b.emit(UNARY[target_name(node)], [x.tensor], perm=x.perm)


@converter("aten.where.self")
def where(b, node, cond, x, y):
    """torch.where(cond, x, y): SELECT_V2 with three-way broadcasting."""
    rank = max(len(b.shape(v)) if isinstance(v, Value) else np.ndim(v) for v in (cond, x, y))
    lead = next(v for v in (x, y, cond) if isinstance(v, Value))
    perm = lead.perm if len(lead.perm) == rank else identity(rank)
    ins = [operand(b, v, rank, perm) for v in (cond, x, y)]
    return b.emit("SELECT_V2", ins, perm=perm)


@converter("aten.cumsum.default")
def cumsum(b, node, x, dim, dtype=None):
    """torch.cumsum as CUMSUM along `dim`, in x's stored layout."""
    dim = int(dim) % len(x.perm)
    axis = b.const_tensor(np.array([x.perm.index(dim)], np.int32), f"{node.name}_axis")
    return b.emit("CUMSUM", [x.tensor, axis], dict(exclusive=False, reverse=False),
                  perm=x.perm)
