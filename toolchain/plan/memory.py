"""Activation memory plan of a graph: tensor lifetimes -> arena offsets (plus op scratch)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

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
        """No two buffers live at the same time share bytes; every offset aligned."""
        ordered = list(self.buffers)
        offs = [self.offsets[b.name] if b.name in self.offsets
                else self.scratch[int(b.name[8:])][0] for b in ordered]
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


def storage_groups(graph: Graph, shares: Mapping[str, str]) -> dict[str, str]:
    """Tensor -> the tensor whose storage it uses (a representative), following chains."""
    rep: dict[str, str] = {}
    for name in lifetimes(graph):
        root = name
        while root in shares:
            root = shares[root]
        rep[name] = root
    return rep


def plan_memory(graph: Graph, scratch_bytes: Callable[[int], int] | None = None,
                alignment: int = 16, shares: Mapping[str, str] | None = None) -> MemoryPlan:
    """Plan activations and per-op scratch buffers in one arena.

    `shares` maps a tensor to one whose bytes it reuses (a RESHAPE output aliasing its input,
    an in-place ADD output over its input): such tensors form one buffer whose lifetime is the
    union of theirs and whose size is the largest of theirs.
    """
    planner = ArenaPlanner(alignment)
    spans = lifetimes(graph)
    rep = storage_groups(graph, shares or {})
    groups: dict[str, list[int]] = {}
    for name, (first, last) in spans.items():
        g = groups.setdefault(rep[name], [first, last, 0])
        g[0], g[1] = min(g[0], first), max(g[1], last)
        g[2] = max(g[2], graph.tensors[name].nbytes)
    ids: dict[str, int] = {}
    for root, (first, last, size) in groups.items():
        ids[root] = planner.add_buffer(size, first, last, root)
    scratch_ids: dict[int, int] = {}
    for i in range(len(graph.ops)):
        size = scratch_bytes(i) if scratch_bytes else 0
        if size:
            scratch_ids[i] = planner.add_buffer(size, i, i, f"scratch:{i}")
    plan = MemoryPlan(planner.arena_size, {n: planner.offset(ids[rep[n]]) for n in spans},
                      {i: (planner.offset(b), planner.buffers[b].size)
                       for i, b in scratch_ids.items()},
                      tuple(planner.buffers), alignment)
    plan.check()
    return plan
