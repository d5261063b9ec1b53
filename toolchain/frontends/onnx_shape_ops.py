"""ONNX converters of data-movement and layout-sensitive ops: Identity/Dropout, Flatten,
Reshape, (Un)Squeeze, Transpose, Concat, Pad, Softmax, LogSoftmax, ReduceMean, Shape/Size/Cast
(the slicing ops are in onnx_slice_ops.py).

Ops that reorder elements work in ONNX order (`b.plain`); ops with an axis work on the stored
layout with the axis remapped, so an NHWC tensor needs no transpose for them.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError
from ..ops.reshape import resolve_shape
from .onnx_build import Builder
from .onnx_node import OnnxNode, converter, identity, inverse, natural
from .onnx_qdq import requantize


def alias(b: Builder, n: OnnxNode, x: str) -> None:
    """The output is the input (no op); constants stay constants."""
    if b.is_const(x):
        b.consts[n.outputs[0]] = b.const(x)
    else:
        b.values[n.outputs[0]] = b.value(x)


def reshape_to(b: Builder, n: OnnxNode, shape) -> None:
    x, shape = n.input(0), tuple(int(d) for d in shape)
    if shape == b.shape(x):
        alias(b, n, x)
    else:
        b.reshape(b.plain(x), shape, out=n.outputs[0])


def axes_of(b: Builder, n: OnnxNode, rank: int, since: int, default=None) -> list[int]:
    """An `axes` list: attribute before opset `since`, optional input 1 from it."""
    if b.opset < since:
        axes = n.attr("axes", default)
    else:
        axes = b.const(n.input(1)).reshape(-1).tolist() if n.input(1) else default
    if axes is None:
        return None
    if any(not -rank <= a < rank for a in axes):
        raise b.error(f"axes {list(axes)} out of range for rank {rank}")
    return sorted({int(a) % rank for a in axes})


@converter("Identity", "Dropout")
def identity_op(b: Builder, n: OnnxNode):
    if n.op_type == "Dropout" and n.input(2) and bool(b.const(n.input(2))):
        raise b.error("Dropout in training mode is not supported")
    alias(b, n, n.input(0))


@converter("Flatten")
def flatten(b: Builder, n: OnnxNode):
    shape = b.shape(n.input(0))
    axis = int(n.attr("axis", 1))
    axis = axis + len(shape) if axis < 0 else axis
    reshape_to(b, n, (int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))))


@converter("Reshape")
def reshape(b: Builder, n: OnnxNode):
    shape = b.shape(n.input(0))
    target = (b.const(n.input(1)) if b.opset >= 5 else np.array(n.attr("shape"))).reshape(-1)
    target = [int(d) for d in target]
    if not n.attr("allowzero", 0):
        target = [shape[i] if d == 0 and i < len(shape) else d for i, d in enumerate(target)]
    try:
        reshape_to(b, n, resolve_shape(target, int(np.prod(shape))))
    except GraphError as exc:
        raise b.error(str(exc)) from None


@converter("Squeeze")
def squeeze(b: Builder, n: OnnxNode):
    shape = b.shape(n.input(0))
    axes = axes_of(b, n, len(shape), 13) or [i for i, d in enumerate(shape) if d == 1]
    if any(shape[a] != 1 for a in axes):
        raise b.error(f"cannot squeeze axes {axes} of shape {list(shape)}")
    reshape_to(b, n, [d for i, d in enumerate(shape) if i not in axes])


@converter("Unsqueeze")
def unsqueeze(b: Builder, n: OnnxNode):
    shape = list(b.shape(n.input(0)))
    axes = n.attr("axes", ()) if b.opset < 13 else b.const(n.input(1)).reshape(-1)
    rank = len(shape) + len(axes)
    for a in axes_of(b, n, rank, 13):
        shape.insert(a, 1)
    reshape_to(b, n, shape)


@converter("Transpose")
def transpose(b: Builder, n: OnnxNode):
    x = n.input(0)
    rank = len(b.shape(x))
    p = tuple(int(i) for i in n.attr("perm", range(rank - 1, -1, -1)))
    v, target = b.value(x), natural(rank)
    q = tuple(inverse(v.perm)[i] for i in (p[j] for j in target))
    if q == identity(rank):
        b.define(n.outputs[0], v.tensor, target)
    else:
        b.emit("TRANSPOSE", [v.tensor, b.ints(q, "perm")], out=n.outputs[0], perm=target)


@converter("Concat")
def concat(b: Builder, n: OnnxNode):
    names = [i for i in n.inputs if i]
    rank = len(b.shape(names[0]))
    perms = {b.values[i].perm for i in names if i in b.values}
    perm = perms.pop() if len(perms) == 1 else natural(rank)
    axis = int(n.attr("axis")) % rank
    quant = b.quant.get(n.outputs[0])   # QDQ: TFLite needs every input at the output's params
    ins = [requantize(b, b.tensor_in(i, perm), quant) for i in names]
    b.emit("CONCATENATION", ins, dict(axis=inverse(perm)[axis], activation="NONE"),
           out=n.outputs[0], perm=perm)


@converter("Pad")
def pad(b: Builder, n: OnnxNode):
    x = n.input(0)
    rank = len(b.shape(x))
    mode = n.attr("mode", "constant")
    if mode not in ("constant", "reflect"):
        raise b.error(f"Pad mode {mode!r} is not supported (constant, reflect)")
    if b.opset < 11:
        pads, value = np.array(n.attr("pads")), float(n.attr("value", 0.0))
    else:
        pads = b.const(n.input(1)).reshape(-1)
        value = float(b.const(n.input(2)).reshape(-1)[0]) if n.input(2) else 0.0
    axes = axes_of(b, n, rank, 18) if b.opset >= 18 and n.input(3) else list(range(rank))
    full = np.zeros((rank, 2), np.int64)
    full[axes] = np.asarray(pads, np.int64).reshape(2, len(axes)).T
    if (full < 0).any():
        raise b.error(f"negative pads {pads.tolist()} (cropping) are not supported")
    v = b.value(x)
    ins = [v.tensor, b.const_tensor(full[list(v.perm)], "paddings")]
    if mode == "reflect":
        b.emit("MIRROR_PAD", ins, dict(mode="REFLECT"), out=n.outputs[0], perm=v.perm)
        return
    if value != 0.0:
        ins.append(b.const_tensor(np.array([value], np.float32), "pad_value"))
    b.emit("PADV2" if value != 0.0 else "PAD", ins, out=n.outputs[0], perm=v.perm)


@converter("Expand")
def expand(b: Builder, n: OnnxNode):
    """BROADCAST_TO ONNX's two-way broadcast of the input and a constant shape, in the input's
    stored layout when the rank stays."""
    x = n.input(0)
    try:
        out = tuple(int(d) for d in np.broadcast_shapes(
            b.shape(x), tuple(int(d) for d in b.const(n.input(1)).reshape(-1))))
    except ValueError:
        raise b.error(f"shape {b.const(n.input(1)).tolist()} does not broadcast with input "
                      f"{list(b.shape(x))}") from None
    v = b.value(x)
    if out == b.shape(x):
        b.define(n.outputs[0], v.tensor, v.perm)
        return
    perm = v.perm if len(v.perm) == len(out) else identity(len(out))
    tensor = v.tensor if perm == v.perm else b.plain(x)
    b.emit("BROADCAST_TO", [tensor, b.ints([out[p] for p in perm], "shape")],
           out=n.outputs[0], perm=perm)


@converter("Softmax", "LogSoftmax")
def softmax(b: Builder, n: OnnxNode):
    """SOFTMAX / LOG_SOFTMAX over one axis, moved last in the stored layout."""
    kind, attrs = (("SOFTMAX", dict(beta=1.0)) if n.op_type == "Softmax"
                   else ("LOG_SOFTMAX", {}))
    x = n.input(0)
    shape = b.shape(x)
    rank = len(shape)
    axis = int(n.attr("axis", 1 if b.opset < 13 else -1)) % rank
    if b.opset < 13 and axis != rank - 1:   # old semantics: softmax of the flattened tail
        flat = b.reshape(b.plain(x), (int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))))
        out = b.emit(kind, [flat], attrs, base=f"{n.outputs[0]}_2d")
        b.reshape(out, shape, out=n.outputs[0])
        return
    v = b.value(x)
    perm = v.perm if v.perm[-1] == axis else tuple(
        [a for a in v.perm if a != axis] + [axis])
    b.emit(kind, [b.tensor_in(x, perm)], attrs, out=n.outputs[0], perm=perm)


# ONNX reduction -> (TFLite op, first opset taking the axes as input 1)
REDUCTIONS = {"ReduceMean": ("MEAN", 18), "ReduceSum": ("SUM", 13),
              "ReduceMax": ("REDUCE_MAX", 18)}


@converter(*REDUCTIONS)
def reduce_mean(b: Builder, n: OnnxNode):
    x = n.input(0)
    rank = len(b.shape(x))
    kind, since = REDUCTIONS[n.op_type]
    axes = axes_of(b, n, rank, since)
    if axes is None or (not axes and not n.attr("noop_with_empty_axes", 0)):
        axes = list(range(rank))
    if not axes:
        return alias(b, n, x)
    v, keep = b.value(x), bool(n.attr("keepdims", 1))
    stored = sorted(inverse(v.perm)[a] for a in axes)
    kept = [a for a in v.perm if a not in axes]   # ONNX axes left, in stored order
    perm = v.perm if keep else tuple(int(i) for i in np.argsort(np.argsort(kept)))
    b.emit(kind, [v.tensor, b.ints(stored, "axes")], dict(keep_dims=keep),
           out=n.outputs[0], perm=perm)


@converter("Shape", "Size")
def shape_of(b: Builder, n: OnnxNode):
    shape = b.shape(n.input(0))
    if n.op_type == "Size":
        b.consts[n.outputs[0]] = np.array(int(np.prod(shape)), np.int64)
        return
    start, end = n.attr("start", 0), n.attr("end", len(shape))
    b.consts[n.outputs[0]] = np.array(shape[start:end], np.int64)


@converter("Cast", "CastLike")
def cast(b: Builder, n: OnnxNode):
    """Casts to float32 of float32 activations are no-ops; CastLike(constant, activation)
    casts the constant (activations are float32)."""
    import onnx  # lazy: onnx is optional (fitml[onnx])

    if n.op_type == "CastLike":
        like = n.input(1)
        to = b.const(like).dtype if b.is_const(like) else np.dtype(np.float32)
        if b.is_const(n.input(0)):
            b.consts[n.outputs[0]] = b.const(n.input(0)).astype(to)
            return
    else:
        to = onnx.helper.tensor_dtype_to_np_dtype(n.attr("to"))
    if to != np.float32:
        raise b.error(f"Cast of an activation to {to} is not supported (float32 only)")
