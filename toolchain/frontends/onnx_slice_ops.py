"""ONNX converters that take parts of an activation: Slice, Split, SplitToSequence with
SequenceAt, Gather by a constant range (each part a STRIDED_SLICE on the stored layout), and
GatherND by constant indices (GATHER_ND in ONNX order)."""
from __future__ import annotations

import numpy as np

from .onnx_build import Builder
from .onnx_node import OnnxNode, converter
from .onnx_shape_ops import alias


@converter("Slice")
def slice_op(b: Builder, n: OnnxNode):
    x = n.input(0)
    shape = b.shape(x)
    rank = len(shape)
    if b.opset < 10:
        starts, ends = n.attr("starts"), n.attr("ends")
        axes, steps = n.attr("axes", range(len(starts))), [1] * len(starts)
    else:
        starts, ends = (b.const(n.input(i)).reshape(-1).tolist() for i in (1, 2))
        axes = b.const(n.input(3)).reshape(-1).tolist() if n.input(3) else range(len(starts))
        steps = b.const(n.input(4)).reshape(-1).tolist() if n.input(4) else [1] * len(starts)
    ranges = [(0, d, 1) for d in shape]
    for a, s, e, st in zip(axes, starts, ends, steps):
        ranges[int(a) % rank] = slice(int(s), int(e), int(st)).indices(shape[int(a) % rank])
    strided_slice(b, x, ranges, n.outputs[0])


def strided_slice(b: Builder, x: str, ranges, out: str) -> None:
    """STRIDED_SLICE of value `x` by python-style (start, stop, step) per ONNX axis, on the
    stored layout (the output keeps it)."""
    v = b.value(x)
    begin, end, strides, end_mask = [], [], [], 0
    for j, axis in enumerate(v.perm):
        start, stop, step = ranges[axis]
        if stop < 0:   # a negative stride running to the first element
            end_mask |= 1 << j
        begin.append(start), end.append(max(stop, 0)), strides.append(step)
    ins = [v.tensor] + [b.ints(a, nm) for a, nm in ((begin, "begin"), (end, "end"),
                                                     (strides, "strides"))]
    b.emit("STRIDED_SLICE", ins, dict(end_mask=end_mask), out=out, perm=v.perm)


def split_into(b: Builder, x: str, axis: int, sizes, outs) -> None:
    shape = b.shape(x)
    if sum(sizes) != shape[axis] or len(sizes) != len(outs):
        raise b.error(f"split sizes {list(sizes)} do not fit axis {axis} of {list(shape)}")
    start = 0
    for out, size in zip(outs, sizes):
        ranges = [(0, d, 1) for d in shape]
        ranges[axis] = (start, start + int(size), 1)
        start += int(size)
        if out:
            strided_slice(b, x, ranges, out)


@converter("Split")
def split(b: Builder, n: OnnxNode):
    shape = b.shape(n.input(0))
    axis = int(n.attr("axis", 0)) % len(shape)
    sizes = (b.const(n.input(1)).reshape(-1).tolist() if b.opset >= 13 and n.input(1)
             else n.attr("split"))
    if sizes is None:   # equal parts, the last one smaller (opset 18 num_outputs)
        part = -(-shape[axis] // len(n.outputs))
        sizes = [min(part, shape[axis] - i * part) for i in range(len(n.outputs))]
    split_into(b, n.input(0), axis, sizes, n.outputs)


@converter("SplitToSequence")
def split_to_sequence(b: Builder, n: OnnxNode):
    """The parts become ordinary values; the sequence is their list (for SequenceAt)."""
    x = n.input(0)
    shape = b.shape(x)
    axis = int(n.attr("axis", 0)) % len(shape)
    if n.input(1):
        given = b.const(n.input(1))
        sizes = given.reshape(-1).tolist() if given.ndim else (
            [int(given)] * (shape[axis] // int(given))
            + ([shape[axis] % int(given)] if shape[axis] % int(given) else []))
    else:
        sizes = [1] * shape[axis]
    parts = [b.fresh(f"{n.outputs[0]}_{i}") for i in range(len(sizes))]
    split_into(b, x, axis, sizes, parts)
    if not n.input(1) and not n.attr("keepdims", 1):
        dropped = [b.fresh(f"{p}_squeezed") for p in parts]
        for p, d in zip(parts, dropped):
            b.reshape(b.plain(p), shape[:axis] + shape[axis + 1:], out=d)
        parts = dropped
    b.sequences[n.outputs[0]] = parts


@converter("SequenceAt")
def sequence_at(b: Builder, n: OnnxNode):
    parts = b.sequences.get(n.input(0))
    if parts is None:
        raise b.error(f"sequence {n.input(0)!r} is not a known SplitToSequence output")
    alias(b, n, parts[int(b.const(n.input(1)))])


@converter("Gather")
def gather(b: Builder, n: OnnxNode):
    """Gather of an activation by constant indices forming a range (x[:, 3], x[:, 2:5])."""
    x, idx = n.input(0), b.const(n.input(1))
    shape = b.shape(x)
    axis = int(n.attr("axis", 0)) % len(shape)
    flat = np.where(idx < 0, idx + shape[axis], idx).reshape(-1)
    if flat.size == 0 or np.any(np.diff(flat) != 1):
        raise b.error("Gather of an activation needs constant, consecutive indices")
    ranges = [(0, d, 1) for d in shape]
    ranges[axis] = (int(flat[0]), int(flat[-1]) + 1, 1)
    out_shape = shape[:axis] + idx.shape + shape[axis + 1:]
    if out_shape == tuple(s for s in (*shape[:axis], flat.size, *shape[axis + 1:])):
        strided_slice(b, x, ranges, n.outputs[0])
        return
    temp = b.fresh(f"{n.outputs[0]}_slice")
    strided_slice(b, x, ranges, temp)
    b.reshape(b.plain(temp), out_shape, out=n.outputs[0])


@converter("GatherND")
def gather_nd(b: Builder, n: OnnxNode):
    """GatherND (batch_dims 0) of an activation by constant indices (negative ones counted
    from the end, as ONNX allows), in ONNX order."""
    if n.attr("batch_dims", 0):
        raise b.error(f"GatherND batch_dims {n.attr('batch_dims')} is not supported (only 0)")
    x, idx = n.input(0), np.asarray(b.const(n.input(1)), np.int64)
    shape = b.shape(x)
    depth = idx.shape[-1] if idx.ndim else 0
    if depth and depth <= len(shape):
        dims = np.asarray(shape[:depth], np.int64)
        idx = np.where((idx < 0) & (idx >= -dims), idx + dims, idx)
    if idx.size and (idx.min() < -(1 << 31) or idx.max() >= 1 << 31):
        raise b.error("GatherND indices do not fit int32")
    ins = [b.plain(x), b.const_tensor(idx.astype(np.int32), f"{n.outputs[0]}_indices")]
    out_rank = idx.ndim - 1 + len(shape) - depth
    b.emit("GATHER_ND", ins, out=n.outputs[0], perm=tuple(range(out_rank)))
