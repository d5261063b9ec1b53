"""One converter per ATen op: `fn(builder, fx_node, *schema_args)` -> Value (or a tuple).

Arguments arrive in schema order with defaults filled in: activations as `Value`, parameters
and folded constants as numpy arrays, the rest as Python values. Weights must be constants.
Converters emit the literal translation (BatchNorm as MUL + ADD, RELU as an op); the CLEANUP
pass pipeline folds and fuses afterwards.
"""
from __future__ import annotations

import numpy as np

from ..ops import common, registry
from .torch_export import NHWC, Builder, Value, compose, converter, identity, inverse

CLAMPS = {(0.0, None): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}
LOWEST = float(np.finfo(np.float32).min)


def pair(v) -> tuple[int, int]:
    v = [int(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def const(b: Builder, a, what: str):
    if isinstance(a, Value):
        raise b.error(f"{what} must be a constant (a parameter or buffer), not an activation")
    return None if a is None else np.asarray(a, np.float32)


# --- element-wise ------------------------------------------------------------------------------
def operand(b: Builder, x, rank: int, perm) -> str:
    """`x` right-aligned to `rank` dims (torch broadcasting), stored as permute(perm)."""
    if not isinstance(x, Value):
        data = np.asarray(x, np.float32)
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
    if rounding_mode is not None or isinstance(y, Value):
        raise b.error("only division by a constant is supported (it becomes MUL by the "
                      "reciprocal); no DIV op")
    return binary(b, "MUL", x, np.float32(1) / np.asarray(y, np.float32))


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



# --- convolution, fully connected, batch norm -------------------------------------------------
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
        raise b.error("transposed convolution is not supported")
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
    return fully_connected(b, node, x, const(b, w, "mm's second matrix").T, None)


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


# --- pooling and reductions -------------------------------------------------------------------
def pool_geometry(b: Builder, node, x: Value, kernel, stride, padding):
    if len(b.shape(x)) != 4:
        raise b.error(f"expects an NCHW input, got shape {list(b.shape(x))}")
    k = pair(kernel)
    s = pair(stride) if stride not in (None, [], ()) else k
    return k, s, pair(padding), b.shape(x)[2:], b.out_shape(node)[2:]


@converter("aten.max_pool2d_with_indices.default", "aten.max_pool2d.default")
def max_pool2d(b, node, x, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    if pair(dilation) != (1, 1):
        raise b.error(f"max pooling with dilation {list(pair(dilation))} is not supported")
    k, s, p, in_hw, out_hw = pool_geometry(b, node, x, kernel, stride, padding)
    t, mode = window_padding(b, b.tensor_in(x, NHWC), in_hw, k, s, (1, 1), p, out_hw, LOWEST)
    out = b.emit("MAX_POOL_2D", [t], dict(padding=mode, stride=s, filter=k,
                                          activation="NONE"))
    return (out, None) if "indices" in str(node.target) else out


@converter("aten.avg_pool2d.default")
def avg_pool2d(b, node, x, kernel, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """TFLite averages only the taps inside the image. count_include_pad=True with padding
    becomes an explicit zero PAD (the zeros are then counted, as torch counts them)."""
    if divisor_override:
        raise b.error("avg_pool2d with divisor_override is not supported")
    k, s, p, in_hw, out_hw = pool_geometry(b, node, x, kernel, stride, padding)
    t = b.tensor_in(x, NHWC)
    if count_include_pad and p != (0, 0):
        floor = [(i + 2 * q - f) // st + 1 for i, q, f, st in zip(in_hw, p, k, s)]
        if list(out_hw) != floor:
            raise b.error("avg_pool2d with count_include_pad=True, padding and ceil_mode "
                          "overhang is not supported")
        t, mode = pad(b, t, [[0, 0], [p[0], p[0]], [p[1], p[1]], [0, 0]]), "VALID"
    else:
        padded, mode = window_padding(b, t, in_hw, k, s, (1, 1), p, out_hw)
        if padded != t:
            raise b.error(f"avg_pool2d padding {list(p)} (ceil_mode={ceil_mode}) does not match "
                          "TFLite SAME padding; TFLite excludes padding from the average")
    return b.emit("AVERAGE_POOL_2D", [t], dict(padding=mode, stride=s, filter=k,
                                                activation="NONE"))


@converter("aten._adaptive_avg_pool2d.default", "aten.adaptive_avg_pool2d.default")
def adaptive_avg_pool2d(b, node, x, output_size):
    h, w = b.shape(x)[2:]
    oh, ow = b.out_shape(node)[2:]
    if (oh, ow) == (h, w):
        return x
    if (oh, ow) == (1, 1):
        return mean_over(b, x, [2, 3], True)
    if h % oh or w % ow:
        raise b.error(f"adaptive average pooling {h}x{w} -> {oh}x{ow} is supported only for "
                      "output 1x1 or when the output divides the input")
    k = (h // oh, w // ow)
    return b.emit("AVERAGE_POOL_2D", [b.tensor_in(x, NHWC)],
                  dict(padding="VALID", stride=k, filter=k, activation="NONE"))


def mean_over(b: Builder, x: Value, dims, keepdim: bool) -> Value:
    rank = len(x.perm)
    dims = set(range(rank)) if not dims else {int(d) % rank for d in dims}
    axes = sorted(x.perm.index(d) for d in dims)
    kept = [p for p in x.perm if p not in dims]
    perm = x.perm if keepdim else tuple(sorted(kept).index(p) for p in kept)
    return b.emit("MEAN", [x.tensor, b.ints(axes, "axes")], dict(keep_dims=bool(keepdim)),
                  perm=perm)


@converter("aten.mean.dim")
def mean_dim(b, node, x, dims, keepdim=False, dtype=None):
    return mean_over(b, x, dims, keepdim)


@converter("aten.mean.default")
def mean_all(b, node, x, dtype=None):
    return mean_over(b, x, None, False)


# --- data movement ----------------------------------------------------------------------------
@converter("aten.view.default", "aten.reshape.default", "aten._unsafe_view.default",
           "aten.flatten.using_ints", "aten.squeeze.dims", "aten.squeeze.dim",
           "aten.squeeze.default", "aten.unsqueeze.default", "aten.unflatten.int")
def reshape(b, node, x, *_):
    """RESHAPE in torch element order: NHWC data is transposed to NCHW first unless only
    size-1 dims differ."""
    shape = b.out_shape(node)
    src = x.tensor if b.in_memory_order(x) else b.tensor_in(x)
    if b.tensors[src].shape == shape:
        return Value(src, identity(len(shape)))
    return Value(b.reshape(src, shape), identity(len(shape)))


@converter("aten.permute.default")
def permute(b, node, x, dims):
    """No op: the result is the same tensor read through another permutation."""
    dims = [int(d) % len(x.perm) for d in dims]
    return Value(x.tensor, compose(inverse(dims), x.perm))


@converter("aten.transpose.int")
def transpose(b, node, x, d0, d1):
    dims = list(range(len(x.perm)))
    d0, d1 = int(d0) % len(dims), int(d1) % len(dims)
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(b, node, x, dims)


@converter("aten.t.default")
def t(b, node, x):
    return permute(b, node, x, list(range(len(x.perm)))[::-1])


@converter("aten.cat.default")
def cat(b, node, tensors, dim=0):
    lead = next(v for v in tensors if isinstance(v, Value))
    dim = int(dim) % len(lead.perm)
    ins = [b.tensor_in(v, lead.perm) for v in tensors if 0 not in b.shape(v)]
    return b.emit("CONCATENATION", ins, dict(axis=lead.perm.index(dim), activation="NONE"),
                  perm=lead.perm)


@converter("aten.constant_pad_nd.default")
def constant_pad_nd(b, node, x, pads, value=0):
    rank = len(x.perm)
    torch_pads = [[0, 0] for _ in range(rank)]
    for i in range(len(pads) // 2):
        torch_pads[rank - 1 - i] = [int(pads[2 * i]), int(pads[2 * i + 1])]
    if min(min(p) for p in torch_pads) < 0:
        raise b.error(f"negative padding {list(pads)} (cropping) is not supported")
    stored = [torch_pads[p] for p in x.perm]
    return Value(pad(b, x.tensor, stored, float(value)), x.perm)


def slice_value(b: Builder, x: Value, dim: int, start: int, end: int, step: int,
                shrink: bool = False) -> Value:
    """STRIDED_SLICE of torch dim `dim` on the stored tensor; `shrink` drops that dim."""
    rank = len(x.perm)
    dim %= rank
    stored = b.tensors[x.tensor].shape
    axis = x.perm.index(dim)
    begin, stop, strides = [0] * rank, list(stored), [1] * rank
    begin[axis], stop[axis], strides[axis] = start, end, step
    ins = [x.tensor, b.ints(begin, "begin"), b.ints(stop, "end"), b.ints(strides, "strides")]
    perm = x.perm
    if shrink:
        kept = [p for p in x.perm if p != dim]
        perm = tuple(sorted(kept).index(p) for p in kept)
    return b.emit("STRIDED_SLICE", ins, dict(shrink_axis_mask=1 << axis if shrink else 0),
                  perm=perm)


@converter("aten.select.int")
def select(b, node, x, dim, index):
    size = b.shape(x)[int(dim) % len(x.perm)]
    index = int(index) % size
    return slice_value(b, x, int(dim), index, index + 1, 1, shrink=True)


@converter("aten.slice.Tensor")
def slice_(b, node, x, dim=0, start=None, end=None, step=1):
    size = b.shape(x)[int(dim) % len(x.perm)]
    lo, hi, _ = slice(start, end, int(step)).indices(size)
    if (lo, hi) == (0, size) and int(step) == 1:
        return x
    return slice_value(b, x, int(dim), lo, max(hi, lo), int(step))


@converter("aten.split_with_sizes.default", "aten.split.Tensor")
def split(b, node, x, sizes, dim=0):
    n = b.shape(x)[int(dim) % len(x.perm)]
    if not isinstance(sizes, (list, tuple)):
        sizes = [min(int(sizes), n - i) for i in range(0, n, int(sizes))]
    starts = np.cumsum([0] + list(sizes))
    return tuple(slice_value(b, x, int(dim), int(a), int(e), 1)
                 for a, e in zip(starts[:-1], starts[1:]))
