"""Helpers the op files' `lower_c` methods share to build kernel parameters for the C runtime.

Each op file lowers itself (`OpDef.lower_c(node) -> CCall`); this module holds only what
several of them need: tensor references, shapes and strides, clamps, requantization arrays,
folded biases, broadcast and gather walks. All arithmetic setup calls the same functions the op
references use, so the C kernels see exactly the integers the numpy spec computes with. The
dict keys are the C field names (checked against `cruntime.STRUCTS` by the tests).

Folded bias (conv, depthwise, FC int8): bias[c] - zp_in * sum(filter[c]), wrapped to int32, so
the kernels' inner loops multiply raw int8 data; padded conv taps read zp_in.

The DSP/MVE specializations live apart: cdsp.py (fast requantization, weight layouts),
cvariant.py (which runtime variant and which layers keep plain weights), cconv.py (the int8
conv call and the kernels' scratch sizes).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..arith import fixedpoint as fp
from ..arith import kernel_math as km
from ..errors import NoKernel
from ..ir import Node
from .ccall import MAX_DIMS, CArray, CCall, TensorRef

FLT_MAX = float(np.finfo(np.float32).max)
CLAMP_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def ref(t) -> TensorRef:
    return TensorRef(t.name)


def i32(values) -> CArray:
    return CArray(np.asarray(values, np.int64).astype(np.int32), "int32_t")


def dims(shape) -> dict:
    n, h, w, c = shape
    return dict(n=n, h=h, w=w, c=c)


def strides(shape) -> list[int]:
    """Row-major element strides."""
    out, acc = [], 1
    for d in reversed(shape):
        out.insert(0, acc)
        acc *= d
    return out


def float_bounds(act: str) -> tuple[float, float]:
    """Clamp of a float op's fused activation, from the reference's own clamp."""
    lo, hi = km.float_clamp(np.array([-FLT_MAX, FLT_MAX], np.float32), act)
    return float(lo), float(hi)


def requant(mult, shift) -> dict:
    mult, shift = np.atleast_1d(mult), np.atleast_1d(shift)
    per_channel = int(mult.size > 1 and not (np.all(mult == mult[0])
                                             and np.all(shift == shift[0])))
    if not per_channel:
        mult, shift = mult[:1], shift[:1]
    return dict(multiplier=i32(mult), shift=i32(shift), per_channel=per_channel)


def bias_of(node: Node):
    """The optional bias tensor (input 2) or None."""
    return node.ins[2] if len(node.ins) > 2 else None


def folded_bias(node: Node, sums: np.ndarray, zp_in: int) -> CArray:
    bias_t = bias_of(node)
    bias = np.zeros(sums.shape, np.int64) if bias_t is None else bias_t.data.astype(np.int64)
    return CArray(fp.wrap32(bias - zp_in * sums).astype(np.int32), "int32_t", role="weights")


def float_fields(node: Node) -> dict:
    """bias (or NULL) and the fused clamp of a float32 conv / depthwise / FC."""
    lo, hi = float_bounds(node.attr("activation", "NONE"))
    bias_t = bias_of(node)
    return dict(bias=ref(bias_t) if bias_t is not None else "NULL", act_min=lo, act_max=hi)


def int8_fields(node: Node, sums: np.ndarray, mult, shift) -> dict:
    """Folded bias, requantization, output zero point and clamp of an int8 weighted op."""
    out = node.outs[0]
    lo, hi = km.output_bounds(node.attr("activation", "NONE"), out)
    return dict(bias=folded_bias(node, sums, km.qparams(node.ins[0])[1]),
                requant=requant(mult, shift), output_zp=out.quant.zp, act_min=lo, act_max=hi)


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


def walk(dims, steps) -> dict:
    rank, d, s = collapse(dims, steps)
    return dict(rank=rank, dims=d, strides=s)


def broadcast(node: Node) -> dict:
    """fitml_broadcast of a binary op: output dims, each input's strides (0 where broadcast)."""
    out = node.outs[0].shape
    lists = []
    for t in node.ins[:2]:
        shape = (1,) * (len(out) - len(t.shape)) + tuple(t.shape)
        lists.append([s if d != 1 else 0 for d, s in zip(shape, strides(shape))])
    rank, d, s1, s2 = collapse(list(out), *lists)
    return dict(rank=rank, dims=d, strides1=s1, strides2=s2)


def binary_io(node: Node) -> tuple:
    return ref(node.ins[0]), ref(node.ins[1]), ref(node.outs[0])


def broadcast_call(node: Node, kernel: str) -> CCall:
    """`kernel` over the broadcast walk of a binary op (fitml_broadcast_params), writing in
    place where it can (the element-wise MAXIMUM, FLOOR_MOD, FLOOR_DIV, ...)."""
    return in_place(CCall(kernel, "fitml_broadcast_params", dict(bc=broadcast(node)),
                          binary_io(node)), node)


def in_place(call: CCall, node: Node) -> CCall:
    """Mark an element-by-element kernel call as able to write over an input of the output's
    shape and dtype (the kernel reads element i before it writes element i); the planner then
    shares that input's bytes when it dies here."""
    out = node.outs[0]
    for k, t in enumerate(node.ins):
        if t is not None and not t.is_const and t.shape == out.shape and t.dtype == out.dtype:
            return dataclasses.replace(call, inplace_input=k)
    return call


def binary_f32(node: Node) -> CCall:
    """float32 ADD / SUB / MUL: fitml_<op>_f32 over the broadcast walk, then the clamp."""
    act = node.attr("activation", "NONE")
    if act not in CLAMP_ACTIVATIONS:    # the reference applies TANH / SIGN_BIT for real
        raise unsupported(node, f"fused activation {act}")
    lo, hi = float_bounds(act)
    return in_place(CCall(f"fitml_{node.op.kind.lower()}_f32", "fitml_binary_f32_params",
                          dict(bc=broadcast(node), act_min=lo, act_max=hi), binary_io(node)),
                    node)


def conv_geom(node: Node, filter_dims) -> dict:
    x, out = node.ins[0], node.outs[0]
    kh, kw = filter_dims[1], filter_dims[2]
    (sh, sw), (dh, dw) = node.attr("stride", (1, 1)), node.attr("dilation", (1, 1))
    (pad_h, _), (pad_w, _) = km.window_pads(node, x.shape[1:3], (kh, kw), (sh, sw), (dh, dw),
                                            out.shape[1:3])
    return dict(input=dims(x.shape), filter=dims(filter_dims), output=dims(out.shape),
                stride_h=sh, stride_w=sw, dilation_h=dh, dilation_w=dw,
                pad_h=pad_h, pad_w=pad_w)


def io(node: Node, *extra) -> tuple:
    """Kernel arguments: the first input, the output, then `extra` (e.g. Scratch())."""
    return (*(ref(t) for t in node.ins[:1]), ref(node.outs[0]), *extra)


def check_filter(node: Node) -> None:
    """A float or int8 conv-like op: filter dtype must match (hybrid ops lower elsewhere)."""
    x, w = node.ins[0], node.ins[1]
    want = ("float32",) if x.dtype == "float32" else ("int8", "int4")
    if x.dtype not in ("float32", "int8") or w.dtype not in want:
        raise NotImplementedError(f"{node.op.kind}: {w.dtype} filter with {x.dtype} input "
                                  "has no C kernel")


def requantize_call(node: Node, kernel: str, mult: int, shift: int, lo: int, hi: int) -> CCall:
    """int8 -> int8 elementwise requantization (QUANTIZE int8->int8, RELU int8)."""
    zp_in, zp_out = km.qparams(node.ins[0])[1], km.qparams(node.outs[0])[1]
    return in_place(CCall(kernel, "fitml_requantize_s8_params",
                          dict(size=node.ins[0].size, input_zp=zp_in, output_zp=zp_out,
                               multiplier=mult, shift=shift, act_min=lo, act_max=hi), io(node)),
                    node)


def gather(node: Node, dims, steps, offset: int) -> CCall:
    """TRANSPOSE / STRIDED_SLICE: a strided walk of the input copied to the output in order."""
    kind = "transpose" if node.op.kind == "TRANSPOSE" else "strided_slice"
    return CCall(f"fitml_{kind}", f"fitml_{kind}_params",
                 dict(walk=walk(dims, steps), offset=int(offset),
                      elem_size=np.dtype(node.ins[0].dtype).itemsize), io(node))


def alias(node: Node) -> CCall:
    """RESHAPE-like ops: no kernel, the output shares the input's bytes."""
    return CCall("", None, alias_of=node.ins[0].name)


def unsupported(node: Node, why: str = "") -> NotImplementedError:
    """The error a lowering raises when the runtime has no kernel for this node."""
    dtypes = "/".join(dict.fromkeys(t.dtype for t in node.ins if t is not None))
    out = f" output {node.outs[0].name!r}" if node.outs else ""
    return NoKernel(f"operator {node.op.kind}{out} ({dtypes}): no C runtime kernel"
                    + (f": {why}" if why else ""))
