"""Kernel parameters for the C runtime, derived at compile time from a Node.

`lower(node)` returns the `CCall` (kernel, parameter struct as a dict, arguments) for one op.
All arithmetic setup (multipliers, shifts, bounds, folded biases) calls the same functions the
op references use, so the C kernels see exactly the integers the numpy spec computes with.
The dict keys are the C field names (checked against `cruntime.STRUCTS` by the tests).

Folded bias (conv, depthwise, FC int8): bias[c] - zp_in * sum(filter[c]), wrapped to int32, so
the kernels' inner loops multiply raw int8 data; padded conv taps read zp_in.
"""
from __future__ import annotations

import numpy as np

from ..ops import (addsub, common, fully_connected, logistic, mean, mul, pad, relu6,
                   softmax, strided_slice, transpose)
from ..ops.registry import Node
from ..quant import fixedpoint as fp
from .clower import CArray, CCall, Scratch, TensorRef
from .cruntime import MAX_DIMS

FLT_MAX = float(np.finfo(np.float32).max)


def _ref(t) -> TensorRef:
    return TensorRef(t.name)


def _i32(values) -> CArray:
    return CArray(np.asarray(values, np.int64).astype(np.int32), "int32_t")


def _dims(shape) -> dict:
    n, h, w, c = shape
    return dict(n=n, h=h, w=w, c=c)


def _strides(shape) -> list[int]:
    """Row-major element strides."""
    out, acc = [], 1
    for d in reversed(shape):
        out.insert(0, acc)
        acc *= d
    return out


def _float_bounds(act: str) -> tuple[float, float]:
    """Clamp of a float op's fused activation, from the reference's own clamp."""
    lo, hi = common.float_clamp(np.array([-FLT_MAX, FLT_MAX], np.float32), act)
    return float(lo), float(hi)


def _requant(mult, shift) -> dict:
    mult, shift = np.atleast_1d(mult), np.atleast_1d(shift)
    per_channel = int(mult.size > 1 and not (np.all(mult == mult[0])
                                             and np.all(shift == shift[0])))
    if not per_channel:
        mult, shift = mult[:1], shift[:1]
    return dict(multiplier=_i32(mult), shift=_i32(shift), per_channel=per_channel)


def _folded_bias(node: Node, sums: np.ndarray, zp_in: int) -> CArray:
    bias_t = node.ins[2] if len(node.ins) > 2 else None
    bias = np.zeros(sums.shape, np.int64) if bias_t is None else bias_t.data.astype(np.int64)
    return CArray(fp.wrap32(bias - zp_in * sums).astype(np.int32), "int32_t", role="weights")


def collapse(dims, *stride_lists, max_rank: int = MAX_DIMS):
    """Drop size-1 dims and merge neighbours that are contiguous in every stride list."""
    keep = [i for i, d in enumerate(dims) if d != 1]
    out_dims = [int(dims[i]) for i in keep] or [1]
    out_strides = [[int(s[i]) for i in keep] or [0] for s in stride_lists]
    i = len(out_dims) - 1
    while i > 0:
        if all(s[i - 1] == s[i] * out_dims[i] for s in out_strides):
            out_dims[i - 1] *= out_dims[i]
            del out_dims[i]
            for s in out_strides:
                s[i - 1] = s[i]
                del s[i]
        i -= 1
    if len(out_dims) > max_rank:
        raise ValueError(f"walk of rank {len(out_dims)} exceeds the runtime's {max_rank}")
    pad = [0] * (max_rank - len(out_dims))
    return len(out_dims), out_dims + pad, *[s + pad for s in out_strides]


def _walk(dims, strides) -> dict:
    rank, d, s = collapse(dims, strides)
    return dict(rank=rank, dims=d, strides=s)


def _broadcast(node: Node) -> dict:
    out = node.outs[0].shape
    lists = []
    for t in node.ins[:2]:
        shape = (1,) * (len(out) - len(t.shape)) + tuple(t.shape)
        lists.append([s if d != 1 else 0 for d, s in zip(shape, _strides(shape))])
    rank, dims, s1, s2 = collapse(list(out), *lists)
    return dict(rank=rank, dims=dims, strides1=s1, strides2=s2)


def _conv_geom(node: Node, filter_dims) -> dict:
    x, out = node.ins[0], node.outs[0]
    kh, kw = filter_dims[1], filter_dims[2]
    (sh, sw), (dh, dw) = node.attr("stride", (1, 1)), node.attr("dilation", (1, 1))
    return dict(input=_dims(x.shape), filter=_dims(filter_dims), output=_dims(out.shape),
                stride_h=sh, stride_w=sw, dilation_h=dh, dilation_w=dw,
                pad_h=common.pad_before(x.shape[1], kh, sh, dh, out.shape[1]),
                pad_w=common.pad_before(x.shape[2], kw, sw, dw, out.shape[2]))


def _io(node: Node, *extra) -> tuple:
    return (*(_ref(t) for t in node.ins[:1]), _ref(node.outs[0]), *extra)


def _check_filter(node: Node) -> None:
    x, w = node.ins[0], node.ins[1]
    want = ("float32",) if x.dtype == "float32" else ("int8", "int4")
    if x.dtype not in ("float32", "int8") or w.dtype not in want:
        raise NotImplementedError(f"{node.op.kind}: {w.dtype} filter with {x.dtype} input "
                                  "has no C kernel (hybrid ops are not supported)")


def _conv(node: Node) -> CCall:
    _check_filter(node)
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    act = node.attr("activation", "NONE")
    geom = _conv_geom(node, w.shape)
    bias_t = node.ins[2] if len(node.ins) > 2 else None
    if not node.quantized:
        lo, hi = _float_bounds(act)
        params = dict(geom=geom, filter=_ref(w), bias=_ref(bias_t) if bias_t else "NULL",
                      act_min=lo, act_max=hi)
        return CCall("fitml_conv_f32", "fitml_conv_f32_params", params, _io(node))
    cout = w.shape[0]
    zp_in = common.qparams(x)[1]
    sums = np.asarray(w.data, np.int64).reshape(cout, -1).sum(axis=1)
    mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, cout)
    lo, hi = common.output_bounds(act, out)
    params = dict(geom=geom, filter=_ref(w), bias=_folded_bias(node, sums, zp_in),
                  requant=_requant(mult, shift), input_zp=zp_in, output_zp=out.quant.zp,
                  act_min=lo, act_max=hi)
    in_place = w.shape[1] == w.shape[2] == 1 and geom["pad_h"] == geom["pad_w"] == 0
    scratch = 0 if in_place else int(np.prod(w.shape[1:]))
    return CCall("fitml_conv_s8", "fitml_conv_s8_params", params, _io(node, Scratch()),
                 scratch_bytes=scratch)


def _depthwise(node: Node) -> CCall:
    _check_filter(node)
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    act = node.attr("activation", "NONE")
    cout = w.shape[3]
    common_fields = dict(geom=_conv_geom(node, w.shape), depth_multiplier=cout // x.shape[3],
                         filter=_ref(w))
    bias_t = node.ins[2] if len(node.ins) > 2 else None
    if not node.quantized:
        lo, hi = _float_bounds(act)
        params = dict(common_fields, bias=_ref(bias_t) if bias_t else "NULL",
                      act_min=lo, act_max=hi)
        return CCall("fitml_depthwise_conv_f32", "fitml_depthwise_conv_f32_params", params,
                     _io(node))
    zp_in = common.qparams(x)[1]
    sums = np.asarray(w.data, np.int64).reshape(-1, cout).sum(axis=0)
    mult, shift = common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, cout)
    lo, hi = common.output_bounds(act, out)
    params = dict(common_fields, bias=_folded_bias(node, sums, zp_in),
                  requant=_requant(mult, shift), input_zp=zp_in, output_zp=out.quant.zp,
                  act_min=lo, act_max=hi)
    return CCall("fitml_depthwise_conv_s8", "fitml_depthwise_conv_s8_params", params,
                 _io(node, Scratch()), scratch_bytes=4 * cout)


def _fully_connected(node: Node) -> CCall:
    _check_filter(node)
    x, w, out = node.ins[0], node.ins[1], node.outs[0]
    n, k = w.shape
    act = node.attr("activation", "NONE")
    shape = dict(batches=x.size // k, input_size=k, output_size=n, filter=_ref(w))
    bias_t = node.ins[2] if len(node.ins) > 2 else None
    if not node.quantized:
        lo, hi = _float_bounds(act)
        params = dict(shape, bias=_ref(bias_t) if bias_t else "NULL", act_min=lo, act_max=hi)
        return CCall("fitml_fully_connected_f32", "fitml_fully_connected_f32_params", params,
                     _io(node))
    s_in, zp_in = common.qparams(x)
    if w.quant.scale.size > 1:
        mult, shift = common.conv_multipliers(s_in, w.quant.scale, out.quant.s, n)
    else:
        if w.quant.zp != 0:
            raise NotImplementedError("FULLY_CONNECTED: filter zero point must be 0 (as TFLM)")
        mult, shift = fully_connected.per_tensor_multiplier(s_in, w.quant.s, out.quant.s)
    sums = np.asarray(w.data, np.int64).sum(axis=1)
    lo, hi = common.output_bounds(act, out)
    params = dict(shape, bias=_folded_bias(node, sums, zp_in), requant=_requant(mult, shift),
                  output_zp=out.quant.zp, act_min=lo, act_max=hi)
    return CCall("fitml_fully_connected_s8", "fitml_fully_connected_s8_params", params,
                 _io(node))


def _pool(node: Node) -> CCall:
    x, out = node.ins[0], node.outs[0]
    (fh, fw), (sh, sw) = node.attr("filter", (1, 1)), node.attr("stride", (1, 1))
    geom = dict(input=_dims(x.shape), output=_dims(out.shape), filter_h=fh, filter_w=fw,
                stride_h=sh, stride_w=sw,
                pad_h=common.pad_before(x.shape[1], fh, sh, 1, out.shape[1]),
                pad_w=common.pad_before(x.shape[2], fw, sw, 1, out.shape[2]))
    act = node.attr("activation", "NONE")
    name = "avgpool" if node.op.kind == "AVERAGE_POOL_2D" else "maxpool"
    if node.quantized:
        lo, hi = common.output_bounds(act, out)
        return CCall(f"fitml_{name}_s8", "fitml_pool_s8_params",
                     dict(geom=geom, act_min=lo, act_max=hi), _io(node))
    lo, hi = _float_bounds(act)
    return CCall(f"fitml_{name}_f32", "fitml_pool_f32_params",
                 dict(geom=geom, act_min=lo, act_max=hi), _io(node))


def _binary(node: Node) -> CCall:
    kind = node.op.kind.lower()
    act = node.attr("activation", "NONE")
    a, b, out = node.ins[0], node.ins[1], node.outs[0]
    args = (_ref(a), _ref(b), _ref(out))
    bc = _broadcast(node)
    if a.dtype == "float32":
        lo, hi = _float_bounds(act)
        return CCall(f"fitml_{kind}_f32", "fitml_binary_f32_params",
                     dict(bc=bc, act_min=lo, act_max=hi), args)
    if a.dtype != "int8":
        raise NotImplementedError(f"{node.op.kind}: no C kernel for {a.dtype}")
    (s1, zp1), (s2, zp2) = common.qparams(a), common.qparams(b)
    s_out, zp_out = common.qparams(out)
    lo, hi = common.output_bounds(act, out)
    zps = dict(input1_zp=zp1, input2_zp=zp2, output_zp=zp_out)
    if kind == "mul":
        m, s = mul.mul_multiplier(s1, s2, s_out)
        return CCall("fitml_mul_s8", "fitml_mul_s8_params",
                     dict(bc=bc, **zps, output_multiplier=m, output_shift=s, act_min=lo,
                          act_max=hi), args)
    (m1, e1), (m2, e2), (mo, eo) = addsub.addsub_multipliers(s1, s2, s_out, kind == "sub")[0]
    return CCall(f"fitml_{kind}_s8", "fitml_add_s8_params",
                 dict(bc=bc, **zps, left_shift=addsub.LEFT_SHIFT, input1_multiplier=m1,
                      input1_shift=e1, input2_multiplier=m2, input2_shift=e2,
                      output_multiplier=mo, output_shift=eo, act_min=lo, act_max=hi), args)


def _softmax(node: Node) -> CCall:
    x = node.ins[0]
    depth = x.shape[-1]
    rows = x.size // depth if depth else 0
    beta = node.attr("beta", 1.0)
    if not node.quantized:
        return CCall("fitml_softmax_f32", "fitml_softmax_f32_params",
                     dict(rows=rows, depth=depth, beta=float(beta)), _io(node))
    m, shift, diff_min = softmax.int8_params(beta, x.quant.s)
    return CCall("fitml_softmax_s8", "fitml_softmax_s8_params",
                 dict(rows=rows, depth=depth, input_multiplier=m, input_left_shift=shift,
                      diff_min=diff_min), _io(node))


def _q4_activation(node: Node) -> CCall:
    x = node.ins[0]
    name = node.op.kind.lower()
    if not node.quantized:
        return CCall(f"fitml_{name}_f32", "fitml_size_params", dict(size=x.size), _io(node))
    m, shift, radius = logistic.q4_input_params(x.quant.s)
    return CCall(f"fitml_{name}_s8", f"fitml_{name}_s8_params",
                 dict(size=x.size, input_zp=x.quant.zp, input_multiplier=m, input_shift=shift,
                      input_range_radius=radius), _io(node))


def _requantize(node: Node, kernel: str, lo: int, hi: int) -> CCall:
    (s_in, zp_in), (s_out, zp_out) = common.qparams(node.ins[0]), common.qparams(node.outs[0])
    m, s = fp.quantize_multiplier(float(s_in) / float(s_out))
    return CCall(kernel, "fitml_requantize_s8_params",
                 dict(size=node.ins[0].size, input_zp=zp_in, output_zp=zp_out, multiplier=m,
                      shift=s, act_min=lo, act_max=hi), _io(node))


def _relu(node: Node) -> CCall:
    x, out = node.ins[0], node.outs[0]
    if x.dtype == "float32":
        hi = 6.0 if node.op.kind == "RELU6" else FLT_MAX
        return CCall("fitml_relu_f32", "fitml_clamp_f32_params",
                     dict(size=x.size, act_min=0.0, act_max=hi), _io(node))
    if x.dtype != "int8":
        raise NotImplementedError(f"{node.op.kind}: no C kernel for {x.dtype}")
    if node.op.kind == "RELU6":
        lo, hi = relu6.relu6_bounds(*common.qparams(x), "int8")
        return CCall("fitml_relu6_s8", "fitml_clamp_s8_params",
                     dict(size=x.size, act_min=lo, act_max=hi), _io(node))
    return _requantize(node, "fitml_relu_s8", max(-128, out.quant.zp), 127)


def _quantize(node: Node) -> CCall:
    x, out = node.ins[0], node.outs[0]
    if out.dtype != "int8" or x.dtype not in ("float32", "int8"):
        raise NotImplementedError(f"QUANTIZE {x.dtype} -> {out.dtype}: no C kernel")
    if x.dtype == "int8":
        return _requantize(node, "fitml_requantize_s8", -128, 127)
    return CCall("fitml_quantize_f32_s8", "fitml_affine_params",
                 dict(size=x.size, scale=out.quant.s, zero_point=out.quant.zp), _io(node))


def _dequantize(node: Node) -> CCall:
    x = node.ins[0]
    if x.dtype != "int8" or x.quant.per_channel:
        raise NotImplementedError("DEQUANTIZE: the C kernel takes per-tensor int8 only")
    return CCall("fitml_dequantize_s8_f32", "fitml_affine_params",
                 dict(size=x.size, scale=x.quant.s, zero_point=x.quant.zp), _io(node))


def _mean(node: Node) -> CCall:
    x, out = node.ins[0], node.outs[0]
    axes = mean.resolve_axes(node.ins)
    strides = _strides(x.shape)
    kept = [a for a in range(len(x.shape)) if a not in axes]
    outer = _walk([x.shape[a] for a in kept], [strides[a] for a in kept])
    inner = _walk([x.shape[a] for a in axes], [strides[a] for a in axes])
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if count == 0:
        raise NotImplementedError("MEAN over an empty axis has no C kernel")
    fields = dict(outer=outer, inner=inner, count=count)
    if not node.quantized:
        return CCall("fitml_mean_f32", "fitml_mean_f32_params", fields, _io(node))
    m, s = mean.mean_multiplier(x.quant.s, out.quant.s, count)
    return CCall("fitml_mean_s8", "fitml_mean_s8_params",
                 dict(fields, input_zp=x.quant.zp, output_zp=out.quant.zp, multiplier=m,
                      shift=s), _io(node))


def _pad(node: Node) -> CCall:
    x, out = node.ins[0], node.outs[0]
    pads = common.const_ints(node.ins[1], "paddings", node.op.kind).tolist()
    value = node.ins[2] if len(node.ins) > 2 else None
    fill = pad.default_fill(node) if value is None else np.asarray(value.data).reshape(-1)[0]
    in_dims, out_dims = list(x.shape), list(out.shape)
    before = [int(a) for a, _ in pads]
    # an unpadded innermost dim merges into its neighbour: longer contiguous row copies
    while len(in_dims) > 1 and in_dims[-1] == out_dims[-1]:
        inner = in_dims.pop()
        out_dims.pop()
        before.pop()
        in_dims[-1], out_dims[-1], before[-1] = (in_dims[-1] * inner, out_dims[-1] * inner,
                                                 before[-1] * inner)
    if not in_dims:
        in_dims, out_dims, before = [1], [1], [0]
    if len(in_dims) > MAX_DIMS:
        raise NotImplementedError(f"{node.op.kind}: rank {len(in_dims)} > {MAX_DIMS}")
    zeros = [0] * (MAX_DIMS - len(in_dims))
    fill_bytes = list(np.asarray(fill, x.dtype).tobytes())
    return CCall("fitml_pad", "fitml_pad_params",
                 dict(rank=len(in_dims), in_dims=in_dims + zeros, out_dims=out_dims + zeros,
                      pad_before=before + zeros, elem_size=np.dtype(x.dtype).itemsize,
                      pad_value=fill_bytes + [0] * (8 - len(fill_bytes))), _io(node))


def _concat(node: Node) -> CCall:
    out = node.outs[0]
    axis = int(node.attr("axis", 0)) % len(out.shape)
    size = np.dtype(out.dtype).itemsize
    inner = int(np.prod(out.shape[axis + 1:], dtype=np.int64))
    chunks = [t.shape[axis] * inner * size for t in node.ins]
    params = dict(num_inputs=len(node.ins), outer=int(np.prod(out.shape[:axis], dtype=np.int64)),
                  chunk_bytes=_i32(chunks))
    return CCall("fitml_concat", "fitml_concat_params", params,
                 (tuple(_ref(t) for t in node.ins), _ref(out)))


def _gather(node: Node, dims, steps, offset: int) -> CCall:
    kind = "transpose" if node.op.kind == "TRANSPOSE" else "strided_slice"
    return CCall(f"fitml_{kind}", f"fitml_{kind}_params",
                 dict(walk=_walk(dims, steps), offset=int(offset),
                      elem_size=np.dtype(node.ins[0].dtype).itemsize), _io(node))


def _transpose(node: Node) -> CCall:
    x = node.ins[0]
    perm = transpose.perm_of(x, node.ins[1])
    strides = _strides(x.shape)
    return _gather(node, [x.shape[p] for p in perm], [strides[p] for p in perm], 0)


def _strided_slice(node: Node) -> CCall:
    x = node.ins[0]
    ranges = strided_slice.axis_ranges(node.op.attrs, x.shape, node.ins)
    strides = _strides(x.shape)
    dims = [strided_slice.extent(a, b, s) for a, b, s, _ in ranges]
    if 0 in dims:
        return _gather(node, [0], [1], 0)
    offset = sum(a * st for (a, _, _, _), st in zip(ranges, strides))
    return _gather(node, dims, [s * st for (_, _, s, _), st in zip(ranges, strides)], offset)


def _alias(node: Node) -> CCall:
    return CCall("", None, alias_of=node.ins[0].name)


LOWERINGS = {
    "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _depthwise, "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool, "ADD": _binary, "SUB": _binary,
    "MUL": _binary, "SOFTMAX": _softmax, "LOGISTIC": _q4_activation, "TANH": _q4_activation,
    "RELU": _relu, "RELU6": _relu, "QUANTIZE": _quantize, "DEQUANTIZE": _dequantize,
    "MEAN": _mean, "PAD": _pad, "PADV2": _pad, "CONCATENATION": _concat,
    "TRANSPOSE": _transpose, "STRIDED_SLICE": _strided_slice, "RESHAPE": _alias,
    "SQUEEZE": _alias,
}


def lower(node: Node) -> CCall:
    """The runtime kernel call for one node (NotImplementedError if the runtime lacks it)."""
    try:
        fn = LOWERINGS[node.op.kind]
    except KeyError:
        raise NotImplementedError(f"{node.op.kind}: no C runtime kernel") from None
    return fn(node)
