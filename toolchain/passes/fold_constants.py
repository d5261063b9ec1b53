"""Constant folding: an op whose inputs are all constants, or whose outputs depend only on
input shapes (SHAPE), is run once by its reference and its outputs become constants (graph
outputs stay computed). Outputs larger than
MAX_FOLD_ELEMENTS (from their shapes, before running) stay computed too: a hostile model's
TILE or RESIZE of a constant must not be materialized at compile time."""
from __future__ import annotations

import numpy as np

from ..ir import Graph
from ..ops import registry
from ..ops.registry import Node
from .edit import prune

MAX_FOLD_ELEMENTS = 1 << 24


def fold_constants(graph: Graph) -> Graph:
    tensors = dict(graph.tensors)
    kept = []
    for op in graph.ops:
        ins = [tensors[n] if n else None for n in op.inputs]
        present = [t for t in ins if t is not None]
        shape_only = registry.get(op.kind).shape_only
        known = shape_only or (present and all(t.is_const for t in present)
                               and not registry.get(op.kind).stateful)
        if not known or any(n in graph.outputs for n in op.outputs) or _too_large(tensors, op):
            kept.append(op)
            continue
        node = Node(op, tuple(ins), tuple(tensors[n] for n in op.outputs))
        results = registry.get(op.kind).reference(node, [t.data if t else None for t in ins])
        for t, value in zip(node.outs, results):
            tensors[t.name] = t.replace(data=np.ascontiguousarray(value).reshape(t.shape))
    return prune(graph.replace(ops=tuple(kept), tensors=tensors))


def _too_large(tensors, op) -> bool:
    for name in op.outputs:
        count = 1
        for d in tensors[name].shape if name in tensors else ():   # Python ints: no overflow
            count *= int(d)
        if count > MAX_FOLD_ELEMENTS:
            return True
    return False
