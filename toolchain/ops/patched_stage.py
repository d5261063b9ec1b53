"""PATCHED_STAGE: a run of spatial ops executed patch by patch (MCUNetV2-style partitioning).

attrs: `ops` (the stage's ops, in order, naming stage tensors), `tensors` (every tensor the ops
produce, the stage output included, as frozen Tensors), `grid` (rows, cols of the stage
output). Inputs: the stage's one activation input, then the constants its ops read. Only one
patch's intermediates are alive at a time, so the big intermediate feature maps never exist.

The reference runs each patch the way the C does (`patch_geometry`): every op reads a view of
its input's patch buffer through the kernel's addressing (origin, extent, row pitch, padding
fill) and computes with its own op reference. Equality with the unsplit ops' reference then
proves the halos, the border padding and the arithmetic at once.
"""
from __future__ import annotations

import numpy as np

from ..ir import GraphError, Op, Tensor
from . import patch_geometry as pg
from . import registry
from .patch_lowering import lower_stage
from .patch_plan import patches, stage_tensors, sub_node
from .registry import Node, OpDef, register

KIND = "PATCHED_STAGE"
DTYPES = ("int8", "int16", "float32")
# 16x8 sub-ops (int16 activations): zero points 0, so padded conv taps add nothing; their C
# kernels take the same geometry structs, on 2-byte elements (patch_emit uses itemsize)
INT16_SUBS = ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "ADD", "SUB")


def _check_stage(op: Op, ins) -> None:
    subs, tensors = op.attr("ops", ()), stage_tensors(op, ins)
    if not subs or len(op.outputs) != 1 or not ins or ins[0] is None or ins[0].is_const:
        raise GraphError(f"{KIND}: needs ops, one activation input first and one output")
    if any(t is not None and not t.is_const for t in ins[1:]):
        raise GraphError(f"{KIND}: only the first input may be an activation")
    defined, used = {op.inputs[0]}, set()
    for sub in subs:
        if sub.kind not in pg.SUPPORTED:
            raise GraphError(f"{KIND}: {sub.kind} cannot run in patches")
        for n in pg.activation_inputs(sub, tensors):
            if n not in defined:
                raise GraphError(f"{KIND}: {sub.kind} reads {n!r} before it is computed")
            used.add(n)
        node = sub_node(sub, tensors)
        x = node.ins[0]
        if len(x.shape) != 4 or x.shape[0] != 1 or x.dtype not in DTYPES:
            raise GraphError(f"{KIND}: {sub.kind} input must be int8, int16 or float32 NHWC, "
                             "batch 1")
        if x.dtype == "int16" and sub.kind not in INT16_SUBS:
            raise GraphError(f"{KIND}: {sub.kind} has no int16 patch kernel")
        if sub.kind in pg.WINDOWED and len(node.ins) > 1 and node.ins[1] is not None and \
                x.dtype == "float32" and node.ins[1].dtype != "float32":
            raise GraphError(f"{KIND}: hybrid {sub.kind} quantizes whole inputs, not patches")
        if sub.kind in pg.ELEMENTWISE and any(t is None or t.is_const or t.shape !=
                                              node.outs[0].shape for t in node.ins[:2]):
            raise GraphError(f"{KIND}: {sub.kind} inside a stage takes two activations of "
                             "its output's shape")
        want = registry.get(sub.kind).infer(sub, node.ins)
        if [(tuple(s), d) for s, d in want] != [(t.shape, t.dtype) for t in node.outs]:
            raise GraphError(f"{KIND}: {sub.kind} output does not match its inferred shape")
        registry.get(sub.kind).check(sub, node.ins, node.outs)
        defined.update(sub.outputs)
    if subs[-1].outputs != op.outputs or op.outputs[0] in used:
        raise GraphError(f"{KIND}: the last op must write the stage output, read by no op")
    if set(tensors) - set(op.inputs) - used - set(op.outputs):
        raise GraphError(f"{KIND}: a stage tensor is computed but never read")
    rows, cols = op.attr("grid", (0, 0))
    out = tensors[op.outputs[0]]
    if not (1 <= rows <= out.shape[1] and 1 <= cols <= out.shape[2]):
        raise GraphError(f"{KIND}: grid {rows}x{cols} does not fit the {out.shape[1]}x"
                         f"{out.shape[2]} output")


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
    win = pg.window(sub, tensors)
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


@register
class PatchedStage(OpDef):
    kind = KIND

    @staticmethod
    def infer(op, ins):
        out = stage_tensors(op, ins).get(op.outputs[0]) if op.outputs else None
        if out is None:
            raise GraphError(f"{KIND}: the stage output is not among its tensors")
        return [(out.shape, out.dtype)]

    @staticmethod
    def check(op, ins, outs):
        _check_stage(op, ins)

    @staticmethod
    def reference(node: Node, args):
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

    @staticmethod
    def macs(node: Node) -> int:
        """MACs actually executed: every op over its patch boxes (halos included)."""
        op, tensors = node.op, stage_tensors(node.op, node.ins)
        per_pixel = []
        for sub in op.attr("ops"):
            n = sub_node(sub, tensors)
            oh, ow = n.outs[0].shape[1:3]
            per_pixel.append(registry.get(sub.kind).macs(n) // max(oh * ow, 1))
        return sum(per_pixel[s.op] * s.out.h * s.out.w
                   for steps in patches(op, tensors) for s in steps)

    @staticmethod
    def lower_c(node: Node):
        return lower_stage(node)


def registry_dtype(t: Tensor):
    return np.float32 if t.dtype == "float32" else np.dtype(t.dtype)
