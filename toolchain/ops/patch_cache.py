"""The lowerings of a PATCHED_STAGE's ops, remembered: the partition search lowers the same
ops (and the same patch shapes, for their scratch) for many candidate stages."""
from __future__ import annotations

from ..lowering import cvariant
from ..lowering.ccall import CCall
from . import patch_geometry as pg
from . import registry
from .registry import Node


_SCRATCH: dict = {}
_LOWERED: dict = {}


def cached_lower(op, node: Node) -> CCall:
    """registry lower_c of `node`, remembered per identity of the op and its tensors and the
    runtime variant (the partition search lowers the same ops, and the same stage ops, for many
    candidates)."""
    if len(_LOWERED) > 4096:
        _LOWERED.clear()
    key = (id(op), tuple(id(t) for t in (*node.ins, *node.outs)), cvariant.current_variant(),
           cvariant.current_plain())
    hit = _LOWERED.get(key)
    if hit is None or hit[0] is not op or any(a is not b for a, b in zip(hit[1], node.ins)) \
            or any(a is not b for a, b in zip(hit[2], node.outs)):
        hit = (op, node.ins, node.outs, registry.get(op.kind).lower_c(node))
        _LOWERED[key] = hit
    return hit[3]


def scratch_bytes(sub, tensors, step: pg.Step) -> int:
    """The scratch bytes the op's kernel needs on one patch's shapes (remembered)."""
    n = patch_node(sub, tensors, step)
    if len(_SCRATCH) > 4096:
        _SCRATCH.clear()
    key = (id(sub), tuple(t.shape if t is not None else None for t in n.ins), n.outs[0].shape,
           cvariant.current_variant(),
           cvariant.current_plain())
    if key not in _SCRATCH or _SCRATCH[key][0] is not sub:
        _SCRATCH[key] = (sub, registry.get(sub.kind).lower_c(n).scratch_bytes)
    return _SCRATCH[key][1]


def patch_node(sub, tensors, step: pg.Step) -> Node:
    """The op on patch-shaped tensors (to ask its lowering for the scratch it needs)."""
    ins = []
    reads = {r.tensor: r for r in step.reads}
    for n in sub.inputs:
        t = tensors.get(n) if n else None
        if t is not None and not t.is_const:
            t = t.replace(shape=(1, *reads[n].view, t.shape[3]))
        ins.append(t)
    out = tensors[sub.outputs[0]]
    return Node(sub, tuple(ins), (out.replace(shape=(1, step.out.h, step.out.w, out.shape[3])),))
