"""What one partition search remembers: each candidate stage is made once (one Op per run of
ops and grid, so the backend's lowering cache knows it again in every candidate that keeps it),
each candidate graph is built in one pass over the ops, and each graph is priced once."""
from __future__ import annotations

from typing import Callable

from ..ir import Graph, Op
from ..plan.memory import MemoryPlan
from ..ops import patch_boxes as pb
from .partition import Readers, regrid, stage_op

# What a candidate costs: the graph as the backend would schedule it and the memory plan of its
# activation arena (one RAM bank). backends/cpartition.plan_arena is the C backend's.
Costs = Callable[[Graph], tuple[Graph, MemoryPlan]]


class StageOps:
    """The PATCHED_STAGE ops of one graph by (first, last, grid), made on first request."""

    def __init__(self, graph: Graph):
        self.graph, self.readers = graph, Readers.of(graph)
        self._ops: dict = {}
        self._checked: dict = {}      # (first, last) -> a stage of them that passed the check
        self._spans: dict = {}

    def op(self, first: int, last: int, grid) -> Op | None:
        """stage_op(graph, first, last, grid), each run of ops checked once."""
        key = (first, last, tuple(grid))
        if key not in self._ops:
            base = self._checked.get(key[:2])
            op = (stage_op(self.graph, first, last, key[2], self.readers) if base is None
                  else regrid(self.graph, base, key[2]))
            if op is not None:
                self._checked.setdefault(key[:2], op)
            self._ops[key] = op
        return self._ops[key]

    def spans(self, stage: Op, tensors, parts: int, axis: int):
        """pb.axis_spans of a stage's ops (one run of ops per stage name) for its output cut
        in `parts` along `axis`: grids share their rows or columns."""
        key = (stage.name, parts, axis)
        if key not in self._spans:
            self._spans[key] = pb.axis_spans(stage.attr("ops"), tensors, stage.outputs[0],
                                             parts, axis)
        return self._spans[key]

    def apply(self, stages) -> Graph:
        """The graph with each (first, last, grid) stage (disjoint) made a PATCHED_STAGE: what
        partition.apply_stages returns; ValueError when one cannot be."""
        ops, gone = list(self.graph.ops), set()
        for first, last, g in sorted(stages, key=lambda st: -st[0]):
            op = self.op(first, last, g)
            if op is None:
                raise ValueError(f"ops {first}..{last} cannot form a patch-based stage")
            gone |= {n for sub in op.attr("ops") for n in sub.outputs} - set(op.outputs)
            ops[first:last + 1] = [op]
        tensors = {n: t for n, t in self.graph.tensors.items() if n not in gone}
        return self.graph.replace(ops=tuple(ops), tensors=tensors)


def remembered(costs: Costs, keep: int = 256) -> Costs:
    """`costs` priced once per graph (by identity; the `keep` latest are kept): the search asks
    again of the graph a round chose, and of the model in every round of `search`."""
    seen: dict[int, tuple[Graph, tuple[Graph, MemoryPlan]]] = {}

    def priced(graph: Graph) -> tuple[Graph, MemoryPlan]:
        hit = seen.get(id(graph))
        if hit is None or hit[0] is not graph:
            if len(seen) >= keep:
                del seen[next(iter(seen))]
            hit = seen[id(graph)] = (graph, costs(graph))
        return hit[1]
    return priced
