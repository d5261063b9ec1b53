"""Which activations share bytes in the C backend's arena: aliases (RESHAPE, SQUEEZE,
EXPAND_DIMS), in-place ops over a dying input, and outputs laid over a dying input
(patch-based stages). The memory plan (plan/memory.py) places each group once."""
from __future__ import annotations

from ..ir import Graph
from ..lowering.ccall import CCall


def shared_storage(graph: Graph, calls: list[CCall], external=()) -> dict[str, str]:
    """Outputs that reuse an input's bytes: aliases always, in-place ops when the input's
    storage (it and its aliases) dies at that op and holds no graph output. Storage of
    `external` (caller-owned, read-only) inputs is never written: no in-place op on it, and a
    graph output is not an alias of it."""
    last_use = {n: i for i, op in enumerate(graph.ops) for n in op.inputs if n}
    shares: dict[str, str] = {}

    def root(n: str) -> str:
        while n in shares:
            n = shares[n]
        return n

    def storage(n: str) -> set[str]:
        """The tensors sharing n's bytes (two RESHAPEs of one input share them)."""
        r = root(n)
        return {r, n, *(k for k in shares if root(k) == r)}
    for i, (op, call) in enumerate(zip(graph.ops, calls)):
        out = op.outputs[0]
        if call.alias_of is not None:
            if root(call.alias_of) not in external or out not in graph.outputs:
                shares[out] = call.alias_of
        elif call.inplace_input is not None:
            src = op.inputs[call.inplace_input]
            t = graph.tensors[src]
            group = storage(src)
            if (not t.is_const and max(last_use.get(m, -1) for m in group) == i
                    and group.isdisjoint(graph.outputs) and root(src) not in external
                    and t.nbytes >= graph.tensors[out].nbytes):
                shares[out] = src
    return shares


def overlaid_outputs(graph: Graph, calls: list[CCall], external=()) -> dict[str, str]:
    """Outputs an op lays over an input it consumes (CCall.overlay_input, patch-based stages),
    when that input dies there and is neither a graph output nor caller-owned."""
    last_use = {n: i for i, op in enumerate(graph.ops) for n in op.inputs if n}
    out = {}
    for i, (op, call) in enumerate(zip(graph.ops, calls)):
        if call.overlay_input is not None:
            src = op.inputs[call.overlay_input]
            if last_use.get(src) == i and src not in graph.outputs and src not in external:
                out[op.outputs[0]] = src
    return out
