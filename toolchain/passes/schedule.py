"""Operator order chosen to lower the activation peak in graphs with branches.

Any topological order computes the same values; the order decides which tensors are live
together. A greedy scheduler picks, among the ops whose inputs are ready, the one that leaves the
fewest live bytes (outputs born minus inputs that die), and the better of that order and the
original is kept. Chains are left untouched.
"""
from __future__ import annotations

from ..ir import Graph


def live_peak(graph: Graph, order: list[int] | None = None) -> int:
    """Max over steps of the bytes of activations live at that step (inputs and outputs of the
    running op included), for the given op order."""
    ops = [graph.ops[i] for i in (order if order is not None else range(len(graph.ops)))]
    last: dict[str, int] = {}
    for step, op in enumerate(ops):
        for n in op.inputs:
            if n:
                last[n] = step
    end = len(ops)
    for n in graph.outputs:
        last[n] = end
    born = {n: -1 for n in graph.inputs}
    born.update({n: s for s, op in enumerate(ops) for n in op.outputs})
    sizes = {n: graph.tensors[n].nbytes for n in born if not graph.tensors[n].is_const}
    change = [0] * (end + 1)             # one sweep: bytes born and freed at each step
    for n, b in sizes.items():
        lo, hi = max(born[n], 0), min(last.get(n, born[n]), end - 1)
        if lo <= hi:
            change[lo] += b
            change[hi + 1] -= b
    peak = live = 0
    for step in range(end):
        live += change[step]
        peak = max(peak, live)
    return peak


def _greedy(graph: Graph) -> list[int]:
    producer = graph.producer()
    users = graph.consumers()
    remaining = {n: len(set(u)) for n, u in users.items()}
    deps = [{producer[n] for n in op.inputs if n in producer} for op in graph.ops]
    waiting = [len(d) for d in deps]           # producers not yet scheduled, per op
    unblocks: list[list[int]] = [[] for _ in graph.ops]
    for i, d in enumerate(deps):
        for j in d:
            unblocks[j].append(i)
    ready = {i for i, n in enumerate(waiting) if n == 0}
    order: list[int] = []
    outputs = set(graph.outputs)
    while len(order) < len(graph.ops):

        def delta(i: int) -> tuple[int, int]:
            op = graph.ops[i]
            born = sum(graph.tensors[n].nbytes for n in op.outputs)
            freed = sum(graph.tensors[n].nbytes for n in set(op.inputs)
                        if n and not graph.tensors[n].is_const and n not in outputs
                        and remaining.get(n, 0) == 1)
            return born - freed, i

        pick = min(ready, key=delta)          # the key ends with the op index: one minimum
        ready.discard(pick)
        order.append(pick)
        for n in set(graph.ops[pick].inputs):
            if n in remaining:
                remaining[n] -= 1
        for i in unblocks[pick]:
            waiting[i] -= 1
            if waiting[i] == 0:
                ready.add(i)
    return order


def schedule_for_memory(graph: Graph) -> Graph:
    """The graph with its ops in the order (greedy or original) of lower live peak."""
    if all(len(u) <= 1 for u in graph.consumers().values()):
        return graph                        # no tensor feeds two ops: nothing to choose
    order = _greedy(graph)
    if live_peak(graph, order) >= live_peak(graph):
        return graph
    return graph.replace(ops=tuple(graph.ops[i] for i in order))
