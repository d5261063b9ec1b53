"""C lowering of a PATCHED_STAGE: one generated function that loops over the patches and calls
the stage's ordinary kernels on patch buffers with per-patch geometry (C text: patch_emit.py).

Each op is lowered once at full size (weights, folded bias and multipliers are shared by every
patch); per patch only its geometry changes. The patch buffers (intermediate boxes, kernel
scratch, output slots) are planned here as one scratch buffer of the stage, live only while it
runs; the stage's output may be laid over its input (CCall.overlay_input).
"""
from __future__ import annotations

import numpy as np

from ..lowering.ccall import CCall, TensorRef
from ..plan.arena import ArenaPlanner
from . import patch_boxes as pb
from .patch_cache import cached_lower, scratch_bytes
from .patch_emit import emit_stage
from .patch_plan import StagePlan, patches, stage_tensors, sub_node
from .registry import Node

ALIGN = 16
COPY = "fitml_patch_copy"


def nbytes(t, box: pb.Box) -> int:
    return box.h * box.w * t.shape[3] * np.dtype(t.dtype).itemsize


def box_bytes(t, box: pb.Box) -> list[tuple[int, int]]:
    """Byte ranges [a, b) of a box of tensor `t` (one per row)."""
    px = t.shape[3] * np.dtype(t.dtype).itemsize
    return [((y * t.shape[2] + box.x0) * px, (y * t.shape[2] + box.x1) * px)
            for y in range(box.y0, box.y1)]


def output_slots(sp: StagePlan) -> tuple[int, dict, list]:
    """Where each patch's output goes: (area bytes, patch -> slot offset, flush lists)."""
    x, y = sp.tensors[sp.node.op.inputs[0]], sp.tensors[sp.node.op.outputs[0]]
    last = len(sp.ops) - 1
    last_read = np.full(max(x.nbytes, y.nbytes), -1)
    if sp.in_place:                       # the last patch that reads each byte of the input
        for p, steps in enumerate(sp.steps):
            for st in steps:
                for r in st.reads:
                    if r.tensor == x.name:
                        for a, b in box_bytes(x, r.box):
                            last_read[a:b] = p
    planner, slots, flush = ArenaPlanner(ALIGN), {}, [[] for _ in sp.steps]
    for p, steps in enumerate(sp.steps):
        box = steps[last].out
        ranges = box_bytes(y, box)
        needed = max(int(last_read[a:b].max()) for a, b in ranges)
        if box.w == y.shape[2] and needed < p:
            continue                      # written in place, directly
        done = max(p, needed)             # after this patch no one reads those bytes
        slots[p] = planner.add_buffer(nbytes(y, box), p, done, f"patch {p}")
        flush[done].append(p)
    slots = {p: planner.offset(i) for p, i in slots.items()}
    return planner.arena_size, slots, flush


def plan_stage(node: Node) -> StagePlan:
    op, tensors = node.op, stage_tensors(node.op, node.ins)
    subs = op.attr("ops")
    calls = []
    for sub in subs:
        call = cached_lower(sub, sub_node(sub, tensors))
        if call.alias_of is not None or call.params_type is None or not (
                "geom" in call.params or "bc" in call.params):
            raise NotImplementedError(f"PATCHED_STAGE: {sub.kind} lowers to {call.kernel} "
                                      "which takes no patch geometry")
        calls.append(call)
    sp = StagePlan(node, tensors, patches(op, tensors), calls, bool(op.attr("in_place")))
    last = len(subs) - 1
    area, sp.slots, sp.flush = output_slots(sp)
    planner, keys = ArenaPlanner(ALIGN), []

    def add(key, size, first, last_step):
        if size:
            keys.append(key)
            planner.add_buffer(size, first, last_step, repr(key))

    users: dict[str, list[int]] = {}
    for k, sub in enumerate(subs):
        for n in pb.activation_inputs(sub, tensors):
            users.setdefault(n, []).append(k)
    for k, sub in enumerate(subs):
        name = sub.outputs[0]
        if k < last:
            add(("t", name), max(nbytes(tensors[name], s[k].out) for s in sp.steps), k,
                max(users[name]))
        add(("scratch", k), max(scratch_bytes(sub, tensors, s[k]) for s in sp.steps), k, k)
    # slots kept across patches must not share bytes with any per-patch buffer
    add(("out",), area, 0 if any(len(f) > 1 or f and f[0] != p
                                 for p, f in enumerate(sp.flush)) else last, last)
    sp.offsets = {key: planner.offset(i) for i, key in enumerate(keys)}
    sp.size = planner.arena_size
    return sp


def lower_stage(node: Node) -> CCall:
    sp = plan_stage(node)
    kernels = {c.kernel for c in sp.calls} | {k for c in sp.calls for k in c.kernels}
    if sp.slots:
        kernels.add(COPY)
    op = node.op
    return CCall("", None, {"ops": [c.params for c in sp.calls]},
                 (TensorRef(op.inputs[0]), TensorRef(op.outputs[0])), scratch_bytes=sp.size,
                 overlay_input=0 if sp.in_place else None,
                 emit=lambda low, index: emit_stage(sp, low, index), kernels=tuple(sorted(kernels)))
