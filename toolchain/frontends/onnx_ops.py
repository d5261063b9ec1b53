"""ONNX converters of compute ops: Conv, pools, Gemm/MatMul, element-wise math, activations,
BatchNormalization. One function per op type, registered with @converter."""
from __future__ import annotations

import numpy as np

from ..ir import QuantParams
from ..ops import common
from ..arith import fixedpoint as fp
from .onnx_build import NHWC, NWC, Builder, OnnxNode, converter, identity

FLOAT_LOWEST = float(np.finfo(np.float32).min)


# --- windows: padding ---------------------------------------------------------------------
def window_pads(b: Builder, n: OnnxNode, hw, kernel, strides, dilations):
    """([(before, after)] per spatial dim, True when ceil_mode added end padding)."""
    auto = n.attr("auto_pad", "NOTSET")
    explicit = list(n.attr("pads", [0, 0, 0, 0]))
    if auto not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER") or len(explicit) != 4:
        raise b.error(f"unsupported padding auto_pad={auto!r} pads={explicit}")
    pads, grew = [], False
    for i, (size, k, s, d) in enumerate(zip(hw, kernel, strides, dilations)):
        eff = (k - 1) * d + 1
        if auto == "VALID":
            before = after = 0
        elif auto == "NOTSET":
            before, after = int(explicit[i]), int(explicit[i + 2])
        else:
            total = max(0, (-(-size // s) - 1) * s + eff - size)
            before = total // 2 if auto == "SAME_UPPER" else total - total // 2
            after = total - before
        if min(before, after) < 0:
            raise b.error(f"negative pads {explicit}")
        if n.attr("ceil_mode", 0):
            out = -(-(size + before + after - eff) // s) + 1
            if (out - 1) * s >= size + before:   # a window may not start in the end padding
                out -= 1
            extra = max(0, (out - 1) * s + eff - (size + before + after))
            after, grew = after + extra, grew or extra > 0
        pads.append((before, after))
    return pads, grew


def tflite_padding(hw, kernel, strides, dilations, pads) -> str | None:
    """"VALID"/"SAME" when TFLite's rule reads exactly the same windows, else None."""
    for padding in ("VALID", "SAME"):
        ok = True
        for size, k, s, d, (before, after) in zip(hw, kernel, strides, dilations, pads):
            out = (size + before + after - ((k - 1) * d + 1)) // s + 1
            tfl_out = common.out_size(size, k, s, d, padding)
            tfl_before = common.pad_before(size, k, s, d, tfl_out) if padding == "SAME" else 0
            ok = ok and out == tfl_out and before == tfl_before
        if ok:
            return padding
    return None


def explicit_pad(b: Builder, x: str, pads, lowest: bool = False) -> str:
    """PAD with zeros (PADV2 with the lowest value when `lowest`) of an NHWC tensor's H, W."""
    paddings = np.array([[0, 0], *pads, [0, 0]], np.int64)   # int32, range-checked
    ins = [x, b.const_tensor(paddings, "paddings")]
    if lowest:
        t = b.tensors[x]
        fill = np.array([-128], np.int8) if t.dtype == "int8" else np.array([FLOAT_LOWEST])
        ins.append(b.const_tensor(fill, "pad_value", t.quant))
    return b.emit("PADV2" if lowest else "PAD", ins, base=f"{x}_padded")


def spatial(b: Builder, n: OnnxNode, x: str, kernel):
    """(hw, strides, dilations) of a 2-D windowed op on NHWC input value `x`."""
    shape = b.shape(x)
    if len(shape) != 4 or len(kernel) != 2:
        raise b.error(f"only 1-D and 2-D windows are supported, got input {list(shape)} "
                      f"and kernel {list(kernel)}")
    strides = tuple(n.attr("strides", (1, 1)))
    dilations = tuple(n.attr("dilations", (1, 1)))
    return shape[2:], strides, dilations


# --- convolution and pooling ---------------------------------------------------------------
def as_2d(b: Builder, n: OnnxNode, convert) -> None:
    """Run a 1-D Conv/pool ([N, C, L]) as the 2-D one on [N, C, 1, L]: stored [N, L, C]
    (NWC) reshapes to NHWC [N, 1, L, C] and back without moving data."""
    x = n.input(0)
    batch, channels, length = b.shape(x)
    x4, out4 = b.fresh(f"{x}_2d"), b.fresh(f"{n.outputs[0]}_2d")
    b.define(x4, b.reshape(b.tensor_in(x, NWC), (batch, 1, length, channels)), NHWC)
    inputs = [x4, *n.inputs[1:]]
    if n.input(1) and b.is_const(n.input(1)):   # Conv weights [M, C/g, K] -> [M, C/g, 1, K]
        w = n.input(1)
        inputs[1] = b.add_const(b.const(w)[:, :, None, :], f"{w}_2d")
        if w in b.qconsts:
            codes, quant = b.qconsts[w]
            b.qconsts[inputs[1]] = (codes[:, :, None, :], quant)
    attrs = dict(n.attrs)
    for key in ("kernel_shape", "strides", "dilations"):
        if key in attrs:
            attrs[key] = [1, *attrs[key]]
    if "pads" in attrs:
        attrs["pads"] = [0, attrs["pads"][0], 0, attrs["pads"][1]]
    convert(b, OnnxNode(n.op_type, n.name, tuple(inputs), (out4,), attrs))
    batch, channels, _, length = b.shape(out4)
    out = b.reshape(b.tensor_in(out4, NHWC), (batch, length, channels), out=n.outputs[0])
    b.define(n.outputs[0], out, NWC)


@converter("Conv")
def conv(b: Builder, n: OnnxNode):
    if len(b.shape(n.input(0))) == 3:
        return as_2d(b, n, conv)
    x, w_name, bias_name = n.input(0), n.input(1), n.input(2)
    w = b.const(w_name).astype(np.float32)
    if w.ndim != 4:
        raise b.error(f"only 1-D and 2-D convolutions are supported, weights are {list(w.shape)}")
    hw, strides, dilations = spatial(b, n, x, w.shape[2:])
    cout, cin_g = w.shape[:2]
    channels, group = b.shape(x)[1], int(n.attr("group", 1))
    if cin_g * group != channels:
        raise b.error(f"group={group} with weights {list(w.shape)} does not fit {channels} "
                      "input channels")
    pads, _ = window_pads(b, n, hw, w.shape[2:], strides, dilations)
    xt = b.tensor_in(x, NHWC)
    padding = tflite_padding(hw, w.shape[2:], strides, dilations, pads)
    if padding is None:
        xt, padding = explicit_pad(b, xt, pads), "VALID"
    attrs = dict(padding=padding, stride=strides, dilation=dilations, activation="NONE")
    if group == channels and cin_g == 1 and group > 1:
        kind, perm = "DEPTHWISE_CONV_2D", (1, 2, 3, 0)
        attrs["depth_multiplier"] = cout // channels
    else:
        kind, perm = "CONV_2D", (0, 2, 3, 1)
    ins = [xt, b.materialize(w_name, perm)]
    wq = b.tensors[ins[1]].quant
    if wq is not None and wq.zero_point.any():
        raise b.error("quantized convolution weights need zero point 0 (symmetric)")
    if bias_name:
        ins.append(bias(b, bias_name, b.const(bias_name), ins))
    b.emit(kind, ins, attrs, out=n.outputs[0], perm=NHWC)


def bias(b: Builder, name: str, values: np.ndarray, ins) -> str:
    """The bias operand: float, a QDQ int32 constant, or float values quantized to int32 at
    s_in * s_w when the op runs int8 (TFLite's bias convention)."""
    x, w = b.tensors[ins[0]], b.tensors[ins[1]]
    if name in b.qconsts and b.qconsts[name][0].shape == values.shape == (values.size,):
        return b.materialize(name)
    if x.dtype != "int8":
        return b.const_tensor(values.astype(np.float32), name)
    scale = np.float64(x.quant.s) * w.quant.scale.astype(np.float64)
    q = fp.round_half_away(values.astype(np.float64) / scale).astype(np.int32)
    axis = 0 if scale.size > 1 else None
    return b.const_tensor(q, f"{name}_int32", QuantParams(scale.astype(np.float32), 0, axis))


def pool(b: Builder, n: OnnxNode, kind: str):
    if len(b.shape(n.input(0))) == 3:
        return as_2d(b, n, lambda b, n: pool(b, n, kind))
    x, kernel = n.input(0), tuple(n.attr("kernel_shape", ()))
    hw, strides, dilations = spatial(b, n, x, kernel)
    if dilations != (1, 1):
        raise b.error(f"pooling dilations {list(dilations)} are not supported")
    pads, grew = window_pads(b, n, hw, kernel, strides, dilations)
    padding = tflite_padding(hw, kernel, strides, dilations, pads)
    xt = b.tensor_in(x, NHWC)
    if kind == "MAX_POOL_2D" and padding is None:
        xt, padding = explicit_pad(b, xt, pads, lowest=True), "VALID"
    elif kind == "AVERAGE_POOL_2D" and n.attr("count_include_pad", 0) and padding != "VALID":
        if grew:
            raise b.error("AveragePool with ceil_mode=1 and count_include_pad=1 is not "
                          "supported")
        xt, padding = explicit_pad(b, xt, pads), "VALID"
    elif padding is None:
        raise b.error(f"AveragePool pads {pads} exclude padding from the count in a way "
                      "TFLite's SAME/VALID cannot express")
    attrs = dict(padding=padding, stride=strides, filter=kernel, activation="NONE")
    b.emit(kind, [xt], attrs, out=n.outputs[0], perm=NHWC)


@converter("MaxPool")
def max_pool(b: Builder, n: OnnxNode):
    if len(n.outputs) > 1 and n.outputs[1]:
        raise b.error("MaxPool's Indices output is not supported")
    pool(b, n, "MAX_POOL_2D")


@converter("AveragePool")
def average_pool(b: Builder, n: OnnxNode):
    pool(b, n, "AVERAGE_POOL_2D")


@converter("GlobalAveragePool", "GlobalMaxPool")
def global_pool(b: Builder, n: OnnxNode):
    x = n.input(0)
    if len(b.shape(x)) != 4:
        raise b.error(f"only 4-D inputs are supported, got {list(b.shape(x))}")
    xt = b.tensor_in(x, NHWC)
    if n.op_type == "GlobalAveragePool":
        b.emit("MEAN", [xt, b.ints([1, 2], "axes")], dict(keep_dims=True), out=n.outputs[0],
               perm=NHWC)
        return
    attrs = dict(padding="VALID", stride=(1, 1), filter=tuple(b.shape(x)[2:]),
                 activation="NONE")
    b.emit("MAX_POOL_2D", [xt], attrs, out=n.outputs[0], perm=NHWC)


# --- matrix products --------------------------------------------------------------------------
def fully_connected(b: Builder, n: OnnxNode, a: str, weights: str, bias_name: str = "",
                    bias_values=None):
    """FULLY_CONNECTED of ONNX-order `a` [..., K] with the weights tensor [N, K]."""
    rank = len(b.shape(a))
    attrs = dict(activation="NONE", keep_num_dims=rank > 2)
    ins = [b.plain(a), weights]
    if bias_values is not None:
        ins.append(bias(b, bias_name, bias_values, ins))
    b.emit("FULLY_CONNECTED", ins, attrs, out=n.outputs[0], perm=identity(max(rank, 2)))


@converter("MatMul")
def matmul(b: Builder, n: OnnxNode):
    a, w = n.input(0), n.input(1)
    if not b.is_const(w) or b.const(w).ndim != 2 or b.is_const(a) or len(b.shape(a)) < 2:
        raise b.error("only MatMul of an activation (rank >= 2) by a constant 2-D matrix is "
                      "supported (it becomes FULLY_CONNECTED)")
    fully_connected(b, n, a, b.materialize(w, (1, 0)))


@converter("Gemm")
def gemm(b: Builder, n: OnnxNode):
    a, w, c = n.input(0), n.input(1), n.input(2)
    if n.attr("transA", 0) or not b.is_const(w) or b.is_const(a):
        raise b.error("only Gemm of an activation (transA=0) by a constant matrix is supported")
    perm = None if n.attr("transB", 0) else (1, 0)
    alpha = n.attr("alpha", 1.0)
    if alpha != 1.0:   # fold alpha into float weights
        if w in b.qconsts:
            raise b.error("Gemm with alpha != 1 on quantized weights is not supported")
        w = b.add_const(b.const(w).astype(np.float64) * alpha, f"{w}_alpha")
    weights = b.materialize(w, perm)
    n_out = b.tensors[weights].shape[0]
    values = None
    if c:
        cval = b.const(c) * n.attr("beta", 1.0) if b.is_const(c) else None
        if cval is None or cval.size not in (1, n_out) or (
                cval.ndim == 2 and cval.shape[0] != 1):
            raise b.error("Gemm's C must be a constant of N values (or a scalar)")
        values = np.broadcast_to(cval.reshape(-1), (n_out,))
        if n.attr("beta", 1.0) != 1.0 or cval.shape != (n_out,):
            c = f"{c}_scaled"   # not the QDQ constant any more: quantize the float values
    fully_connected(b, n, a, weights, c, values)


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


@converter("PRelu")
def prelu(b: Builder, n: OnnxNode):
    slope = b.const(n.input(1))
    if np.unique(slope).size != 1:
        raise b.error("PRelu with per-channel slopes is not supported (one slope only)")
    unary(b, n, "LEAKY_RELU", dict(alpha=float(slope.reshape(-1)[0])))


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
