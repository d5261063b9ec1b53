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
    peak = 0
    for step in range(len(ops)):
        peak = max(peak, sum(b for n, b in sizes.items()
                             if born[n] <= step <= last.get(n, born[n])))
    return peak


def _greedy(graph: Graph) -> list[int]:
    producer = graph.producer()
    users = graph.consumers()
    remaining = {n: len(set(u)) for n, u in users.items()}
    deps = [{producer[n] for n in op.inputs if n in producer} for op in graph.ops]
    done: set[int] = set()
    order: list[int] = []
    outputs = set(graph.outputs)
    while len(order) < len(graph.ops):
        ready = [i for i in range(len(graph.ops)) if i not in done and deps[i] <= done]

        def delta(i: int) -> tuple[int, int]:
            op = graph.ops[i]
            born = sum(graph.tensors[n].nbytes for n in op.outputs)
            freed = sum(graph.tensors[n].nbytes for n in set(op.inputs)
                        if n and not graph.tensors[n].is_const and n not in outputs
                        and remaining.get(n, 0) == 1)
            return born - freed, i

        pick = min(ready, key=delta)
        done.add(pick)
        order.append(pick)
        for n in set(graph.ops[pick].inputs):
            if n in remaining:
                remaining[n] -= 1
    return order


def schedule_for_memory(graph: Graph) -> Graph:
    """The graph with its ops in the order (greedy or original) of lower live peak."""
    if all(len(u) <= 1 for u in graph.consumers().values()):
        return graph                        # no tensor feeds two ops: nothing to choose
    order = _greedy(graph)
    if live_peak(graph, order) >= live_peak(graph):
        return graph
    return graph.replace(ops=tuple(graph.ops[i] for i in order))
