"""Activation memory plan of a graph: tensor lifetimes -> arena offsets (plus op scratch)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..ir import Graph
from .arena import ArenaPlanner, Buffer, check_no_overlap


@dataclass(frozen=True)
class MemoryPlan:
    arena_size: int
    offsets: dict[str, int]                     # activation tensor -> arena offset
    scratch: dict[int, tuple[int, int]] = field(default_factory=dict)  # op -> (offset, size)
    buffers: tuple[Buffer, ...] = ()
    alignment: int = 16

    def check(self) -> None:
        ordered = list(self.buffers)
        names = [b.name for b in ordered]
        offs = [self.offsets[n] if n in self.offsets else self.scratch[int(n[8:])][0]
                for n in names]
        check_no_overlap(ordered, offs, self.alignment)


def lifetimes(graph: Graph) -> dict[str, tuple[int, int]]:
    """Activation tensor -> (first step, last step); graph inputs/outputs span the whole run."""
    end = max(len(graph.ops) - 1, 0)
    span: dict[str, list[int]] = {n: [0, 0] for n in graph.inputs}
    for i, op in enumerate(graph.ops):
        for n in op.outputs:
            span[n] = [i, i]
        for n in op.inputs:
            if n and n in span:
                span[n][1] = max(span[n][1], i)
    for n in graph.outputs:
        span[n][1] = end
    return {n: (a, b) for n, (a, b) in span.items() if not graph.tensors[n].is_const}


def plan_memory(graph: Graph, scratch_bytes: Callable[[int], int] | None = None,
                alignment: int = 16) -> MemoryPlan:
    """Greedy-by-size first-fit plan of activations and per-op scratch buffers."""
    planner = ArenaPlanner(alignment)
    ids: dict[str, int] = {}
    for name, (first, last) in lifetimes(graph).items():
        ids[name] = planner.add_buffer(graph.tensors[name].nbytes, first, last, name)
    scratch_ids: dict[int, int] = {}
    for i in range(len(graph.ops)):
        size = scratch_bytes(i) if scratch_bytes else 0
        if size:
            scratch_ids[i] = planner.add_buffer(size, i, i, f"scratch:{i}")
    plan = MemoryPlan(planner.arena_size, {n: planner.offset(b) for n, b in ids.items()},
                      {i: (planner.offset(b), planner.buffers[b].size)
                       for i, b in scratch_ids.items()},
                      tuple(planner.buffers), alignment)
    plan.check()
    return plan
