"""The reference of a PATCHED_STAGE, run patch by patch the way the C does (`patch_geometry`):
every op reads a view of its input's patch buffer through the kernel's addressing (origin,
extent, row pitch, padding fill) and computes with its own op reference. Equality with the
unsplit ops' reference then proves the halos, the border padding and the arithmetic at once.
"""
from __future__ import annotations

import numpy as np

from ..ir import Op, Tensor
from . import patch_boxes as pb
from . import patch_geometry as pg
from . import registry
from .patch_plan import patches, stage_tensors
from .registry import Node


def run_patches(node: Node, args) -> list[np.ndarray]:
    """The stage's output computed patch by patch, each op through its own reference."""
    op, tensors = node.op, stage_tensors(node.op, node.ins)
    values = {n: a for n, a in zip(op.inputs, args) if n}
    out = tensors[op.outputs[0]]
    result = np.zeros(out.shape, registry_dtype(out))
    for steps in patches(op, tensors):
        bufs: dict[str, np.ndarray] = {}
        for sub, step in zip(op.attr("ops"), steps):
            bufs[sub.outputs[0]] = run_step(sub, step, tensors, values, bufs)
        box = steps[-1].out
        result[:, box.y0:box.y1, box.x0:box.x1] = bufs[out.name]
    return [result]


def fill_value(sub: Op, x: Tensor):
    """What a padded tap holds, so that it changes nothing (conv: zp_in; max pool: minimum)."""
    if sub.kind == "MAX_POOL_2D":
        return -np.inf if x.dtype == "float32" else np.iinfo(x.dtype).min
    return 0 if x.dtype == "float32" else x.quant.zp


def view(buf: np.ndarray, read: pg.Read, rows: int, cols: int, pad=(0, 0), fill=0):
    """The [1, rows, cols, C] array a kernel sees: row j, column k read the source memory (row
    pitch source.w) at view origin + (j - pad_h, k - pad_w) when inside the view's extent,
    else `fill`."""
    flat = buf.reshape(-1, buf.shape[-1])
    iy, ix = np.arange(rows) - pad[0], np.arange(cols) - pad[1]
    inside = ((iy >= 0) & (iy < read.view[0]))[:, None] & ((ix >= 0) & (ix < read.view[1]))
    index = read.offset + iy[:, None] * read.source.w + ix[None, :]
    if np.any(inside & ((index < 0) | (index >= len(flat)))):
        raise AssertionError(f"patch view of {read.tensor!r} reads outside its buffer")
    out = flat[np.clip(index, 0, len(flat) - 1)]
    return np.where(inside[..., None], out, np.asarray(fill).astype(out.dtype))[None]


def run_step(sub: Op, step: pg.Step, tensors, values, bufs) -> np.ndarray:
    """One op of one patch through its own reference, on the views its kernel would read."""
    out_t = tensors[sub.outputs[0]]
    out_t = out_t.replace(shape=(1, step.out.h, step.out.w, out_t.shape[3]))
    reads = {r.tensor: r for r in step.reads}
    win = pb.window(sub, tensors)
    args, ins = [], []
    for name in sub.inputs:
        t = tensors.get(name) if name else None
        if t is None or t.is_const:
            args.append(values.get(name) if name else None)
            ins.append(t)
            continue
        r = reads[name]
        src = values[name] if name in values else bufs[name]
        if win is None:
            a = view(src, r, step.out.h, step.out.w)
        else:
            (r0, r1), (c0, c1) = win.span(step.out.y0, step.out.y1, 0), win.span(
                step.out.x0, step.out.x1, 1)
            a = view(src, r, r1 - r0, c1 - c0, r.pad, fill_value(sub, t))
        args.append(a)
        ins.append(t.replace(shape=a.shape))
    if win is not None:
        sub = sub.replace(attrs={**sub.attrs, "padding": "VALID"})
    return registry.get(sub.kind).reference(Node(sub, tuple(ins), (out_t,)), args)[0]


def registry_dtype(t: Tensor):
    return np.float32 if t.dtype == "float32" else np.dtype(t.dtype)
