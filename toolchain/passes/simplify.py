"""Identity removal and layout cleanup: ops that copy their input unchanged go away, then the
layout rules of layout.py (reshape/transpose chains, hoisting, flatten into FC weights).

(ONNX Identity and Dropout never reach the IR: the frontend aliases them.)
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from . import layout
from .edit import apply_rules, bypass
from .layout import RESHAPES, const_data as _const, perm_of as _perm


def _neutral_operand(graph: Graph, op: Op) -> bool:
    """Float ADD/SUB of zeros or MUL by ones, without activation or broadcasting growth."""
    if op.kind not in ("ADD", "SUB", "MUL") or op.attr("activation", "NONE") != "NONE":
        return False
    x, c = graph.tensors[op.inputs[0]], _const(graph, op.inputs[1])
    out = graph.tensors[op.outputs[0]]
    return (x.dtype == "float32" and c is not None and x.shape == out.shape
            and np.all(c == (1 if op.kind == "MUL" else 0)))


def _is_copy(graph: Graph, op: Op) -> bool:
    if op.kind in RESHAPES:
        return True   # bypass() checks that the shapes agree
    if op.kind == "TRANSPOSE":
        return _perm(graph, op) == sorted(_perm(graph, op))
    if op.kind == "CONCATENATION":
        return len([n for n in op.inputs if n]) == 1
    if op.kind in ("PAD", "PADV2"):
        pads = _const(graph, op.inputs[1])
        return pads is not None and not np.any(pads)
    return _neutral_operand(graph, op)


def drop_copy(graph, i, users):
    """An op that copies its input (identity reshape/transpose/pad, x+0, x*1) is removed."""
    return bypass(graph, i, users) if _is_copy(graph, graph.ops[i]) else None


# rules tried in order at each op; then the layout rules
RULES = [
    drop_copy,              # identity reshape/squeeze/transpose, 1-input concat, zero pad, x+0
]


def simplify(graph: Graph) -> Graph:
    return apply_rules(graph, RULES + layout.RULES)
