"""ONNX converters of the weighted and pooling ops: Conv (-> CONV_2D / DEPTHWISE_CONV_2D),
MaxPool, AveragePool, the global pools, MatMul and Gemm (-> FULLY_CONNECTED; MatMul of
two activations -> BATCH_MATMUL)."""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..ir import QuantParams
from .onnx_build import Builder
from .onnx_node import NHWC, OnnxNode, converter, identity
from .onnx_windows import as_2d, explicit_pad, spatial, tflite_padding, window_pads


# --- convolution and pooling ---------------------------------------------------------------
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
    """activation @ constant 2-D matrix: FULLY_CONNECTED; activation @ activation (ranks 2 to
    5, batch dims broadcasting): BATCH_MATMUL."""
    a, w = n.input(0), n.input(1)
    if not b.is_const(a) and not b.is_const(w) and all(
            2 <= len(b.shape(v)) <= 5 for v in (a, w)):
        rank = max(len(b.shape(a)), len(b.shape(w)))
        b.emit("BATCH_MATMUL", [b.plain(a), b.plain(w)], dict(adj_x=False, adj_y=False),
               out=n.outputs[0], perm=identity(rank))
        return
    if not b.is_const(w) or b.const(w).ndim != 2 or b.is_const(a) or len(b.shape(a)) < 2:
        raise b.error("only MatMul of an activation (rank >= 2) by a constant 2-D matrix "
                      "(FULLY_CONNECTED) or of two activations of rank 2 to 5 (BATCH_MATMUL) "
                      "is supported")
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
