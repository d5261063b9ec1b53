"""ATen convolution (conv1d/2d, depthwise; transposed: torch_tconv_ops.py), linear / addmm /
mm, bmm and inference BatchNorm.

conv1d runs as a 2-D convolution over [N, 1, L, C]; BatchNorm becomes a per-channel MUL and
ADD that fold_batchnorm folds into the preceding conv or linear.
"""
from __future__ import annotations

import numpy as np

from .torch_builder import Builder
from .torch_common import NHWC, Value, converter, identity
from .torch_ops import binary, const, pair, window_padding
from .torch_tconv_ops import conv_transpose


def to_2d(b: Builder, x: Value) -> tuple[str, tuple[int, int]]:
    """A rank-3 [N, C, L] (or rank-4) activation as an NHWC tensor and its (H, W)."""
    shape = b.shape(x)
    if len(shape) == 4:
        return b.tensor_in(x, NHWC), shape[2:]
    if len(shape) == 3:
        n, c, length = shape
        return b.reshape(b.tensor_in(x, (0, 2, 1)), (n, 1, length, c)), (1, length)
    raise b.error(f"expects a rank-3 or rank-4 input, got shape {list(shape)}")


def from_2d(b: Builder, node, t: str, rank: int) -> Value:
    if rank == 4:
        return Value(t, NHWC)
    n, _, length, c = b.tensors[t].shape
    return Value(b.reshape(t, (n, length, c)), (0, 2, 1))


def spatial(v, rank: int, default, height: int = 1) -> tuple[int, int]:
    """(H, W) of a conv parameter; conv1d's single value is W, H is `height`."""
    v = list(v) if isinstance(v, (list, tuple)) else [v]
    if not v:
        v = list(default)
    if rank == 3:
        return height, int(v[0])
    return pair(v)


@converter("aten.convolution.default")
def convolution(b, node, x, w, bias, stride, padding, dilation, transposed, out_pad, groups):
    w, bias = const(b, w, "convolution weight"), const(b, bias, "convolution bias")
    if transposed:
        return conv_transpose(b, node, x, w, bias, stride, padding, dilation, out_pad, groups)
    rank = len(b.shape(x))
    t, in_hw = to_2d(b, x)
    if rank == 3:
        w = w[:, :, None, :]
    out_hw = b.out_shape(node)[2:] if rank == 4 else (1, b.out_shape(node)[2])
    cout, cin_g, kh, kw = w.shape
    cin = b.shape(x)[1]
    k = (kh, kw)
    s, d = spatial(stride, rank, k), spatial(dilation, rank, (1, 1))
    p = spatial(padding, rank, (0, 0), height=0)
    t, mode = window_padding(b, t, in_hw, k, s, d, p, out_hw)
    attrs = dict(padding=mode, stride=s, dilation=d, activation="NONE")
    base = node.name
    if bias is None:   # LiteRT's float conv kernels require a bias operand
        bias = np.zeros(cout, np.float32)
    bias_t = b.const_tensor(bias, f"{base}_bias")
    if groups == cin and cin_g == 1 and groups > 1:
        attrs["depth_multiplier"] = cout // cin
        wt = b.const_tensor(w.transpose(1, 2, 3, 0), f"{base}_weight")
        out = b.emit("DEPTHWISE_CONV_2D", [t, wt, bias_t], attrs)
    else:
        wt = b.const_tensor(w.transpose(0, 2, 3, 1), f"{base}_weight")
        out = b.emit("CONV_2D", [t, wt, bias_t], attrs)
    return from_2d(b, node, out.tensor, rank)


def fully_connected(b: Builder, node, x: Value, w: np.ndarray, bias) -> Value:
    """x @ w.T + bias over x's last dim (w is [N, K])."""
    rank = len(b.shape(x))
    ins = [b.tensor_in(x), b.const_tensor(w, f"{node.name}_weight")]
    if bias is not None:
        bias = np.broadcast_to(np.asarray(bias, np.float32).reshape(-1), (w.shape[0],))
        ins.append(b.const_tensor(bias, f"{node.name}_bias"))
    return b.emit("FULLY_CONNECTED", ins, dict(activation="NONE", keep_num_dims=rank != 2),
                  perm=identity(rank))


@converter("aten.linear.default")
def linear(b, node, x, w, bias=None):
    return fully_connected(b, node, x, const(b, w, "linear weight"),
                           const(b, bias, "linear bias"))


@converter("aten.addmm.default")
def addmm(b, node, bias, x, w, beta=1, alpha=1):
    w = const(b, w, "addmm's second matrix") * np.float32(alpha)
    bias = const(b, bias, "addmm bias") * np.float32(beta)
    return fully_connected(b, node, x, w.T, bias)


@converter("aten.mm.default")
def mm(b, node, x, w):
    """x @ constant: FULLY_CONNECTED; x @ activation: BATCH_MATMUL."""
    if isinstance(x, Value) and isinstance(w, Value):
        return bmm(b, node, x, w)
    return fully_connected(b, node, x, const(b, w, "mm's second matrix").T, None)


def matmul_operand(b: Builder, v) -> tuple[str, bool]:
    """(tensor, adj): a Value stored with its last two dims swapped is read transposed in
    place (BATCH_MATMUL's adj_x / adj_y) instead of through a TRANSPOSE."""
    rank = len(b.shape(v))
    swapped = identity(rank - 2) + (rank - 1, rank - 2)
    if isinstance(v, Value) and tuple(v.perm) == swapped:
        return v.tensor, True
    return b.tensor_in(v), False


@converter("aten.matmul.default")
def matmul(b, node, x, y):
    """torch.matmul, kept whole: two activations (ranks 2 to 5, batch dims broadcasting) ->
    BATCH_MATMUL; an activation by a constant matrix -> FULLY_CONNECTED."""
    ranks = [len(b.shape(v)) for v in (x, y)]
    if isinstance(x, Value) and not isinstance(y, Value) and ranks[1] == 2 and ranks[0] >= 2:
        return fully_connected(b, node, x, const(b, y, "matmul's second matrix").T, None)
    if not (isinstance(x, Value) and isinstance(y, Value) and min(ranks) >= 2):
        raise b.error(f"matmul of ranks {ranks[0]} and {ranks[1]} is not supported (only an "
                      "activation by a constant matrix, or two activations of rank 2 to 5)")
    return bmm(b, node, x, y)


@converter("aten.bmm.default")
def bmm(b, node, x, y):
    """The product of two activations (torch.bmm, torch.matmul): BATCH_MATMUL."""
    if not (isinstance(x, Value) and isinstance(y, Value)):
        raise b.error("bmm with a constant operand is not supported (only two activations)")
    (lhs, adj_x), (rhs, adj_y) = matmul_operand(b, x), matmul_operand(b, y)
    return b.emit("BATCH_MATMUL", [lhs, rhs], dict(adj_x=adj_x, adj_y=adj_y),
                  perm=identity(len(b.out_shape(node))))


def batch_norm(b: Builder, node, x: Value, gamma, beta, mean, var, eps) -> Value:
    """Inference BatchNorm as a per-channel MUL and ADD (fold_batchnorm folds them into a
    preceding conv or linear)."""
    if mean is None or var is None:
        raise b.error("batch norm without running statistics is not supported")
    mean, var = const(b, mean, "running_mean"), const(b, var, "running_var")
    scale = 1.0 / np.sqrt(var.astype(np.float64) + float(eps))
    if gamma is not None:
        scale = scale * const(b, gamma, "batch norm weight")
    shift = -mean * scale + (0.0 if beta is None else const(b, beta, "batch norm bias"))
    shape = (b.shape(x)[1],) + (1,) * (len(x.perm) - 2)
    y = binary(b, "MUL", x, scale.astype(np.float32).reshape(shape))
    return binary(b, "ADD", y, shift.astype(np.float32).reshape(shape))


@converter("aten._native_batch_norm_legit_no_training.default")
def bn_no_training(b, node, x, gamma, beta, mean, var, momentum, eps):
    return (batch_norm(b, node, x, gamma, beta, mean, var, eps), None, None)


@converter("aten.batch_norm.default")
def bn(b, node, x, gamma, beta, mean, var, training, momentum, eps, cudnn=None):
    if training:
        raise b.error("batch norm in training mode; call module.eval() first")
    return batch_norm(b, node, x, gamma, beta, mean, var, eps)


@converter("aten.native_batch_norm.default")
def native_bn(b, node, x, gamma, beta, mean, var, training, momentum, eps):
    if training:
        raise b.error("batch norm in training mode; call module.eval() first")
    return (batch_norm(b, node, x, gamma, beta, mean, var, eps), None, None)
