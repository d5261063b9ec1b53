"""Activation memory plan of a graph: tensor lifetimes -> arena offsets (plus op scratch)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Collection, Mapping, Sequence

from ..ir import Graph
from .arena import ArenaPlanner, Buffer, check_no_overlap
from .banks import split_banks


@dataclass(frozen=True)
class Bank:
    """One RAM region holding part of the activations: bank 0 is the caller-owned arena."""
    name: str
    capacity: int | None       # bytes it may take (None: unbounded)
    size: int                  # bytes planned in it (16-byte multiple)


@dataclass(frozen=True)
class MemoryPlan:
    arena_size: int                             # bank 0: the caller-owned arena
    offsets: dict[str, int]                     # activation tensor -> offset in its bank
    scratch: dict[int, tuple[int, int]] = field(default_factory=dict)  # op -> (offset, size)
    buffers: tuple[Buffer, ...] = ()
    alignment: int = 16
    banks: tuple[Bank, ...] = ()                # fastest first; bank 0 is arena_size bytes
    tensor_banks: dict[str, int] = field(default_factory=dict)   # tensor -> bank (absent: 0)
    scratch_banks: dict[int, int] = field(default_factory=dict)  # op -> bank of its scratch
    external: dict[str, str] = field(default_factory=dict)  # tensor -> caller input holding it

    def bank_of(self, tensor: str) -> int:
        return self.tensor_banks.get(tensor, 0)

    def buffer_bank(self, buf: Buffer) -> int:
        if buf.name in self.offsets:
            return self.bank_of(buf.name)
        return self.scratch_banks.get(int(buf.name[8:]), 0)

    @property
    def total_size(self) -> int:
        """Activation bytes over every bank."""
        return sum(b.size for b in self.banks) if self.banks else self.arena_size

    def check(self) -> None:
        """No two buffers live at the same time share bytes in a bank; every offset aligned;
        every bank within its planned size."""
        ordered = list(self.buffers)
        offs = [self.offsets[b.name] if b.name in self.offsets
                else self.scratch[int(b.name[8:])][0] for b in ordered]
        for k in range(max(len(self.banks), 1)):
            mine = [i for i, b in enumerate(ordered) if self.buffer_bank(b) == k]
            check_no_overlap([ordered[i] for i in mine], [offs[i] for i in mine], self.alignment)
            size = self.banks[k].size if self.banks else self.arena_size
            for i in mine:
                if offs[i] + ordered[i].size > size:
                    raise AssertionError(f"buffer {ordered[i].name} ends past bank {k}")


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
                alignment: int = 16, shares: Mapping[str, str] | None = None,
                banks: Sequence[tuple[str, int | None]] | None = None,
                overlays: Mapping[str, str] | None = None,
                external: Collection[str] = ()) -> MemoryPlan:
    """Plan activations and per-op scratch buffers in one arena, or over RAM banks.

    `shares` maps a tensor to one whose bytes it reuses (a RESHAPE output aliasing its input,
    an in-place ADD output over its input): such tensors form one buffer whose lifetime is the
    union of theirs and whose size is the largest of theirs.
    `banks` lists (region name, capacity) fastest first: bank 0 is the caller's arena, later
    banks take what does not fit (see plan/banks.py); without it, one unbounded arena.
    `overlays` maps an output to an input its op consumes while writing it (a patch-based
    stage): in one arena the output takes the input's offset from the next step on, each
    keeping its own size and lifetime (the op itself keeps its writes behind its reads).
    `external` names graph inputs held in caller-owned buffers: they and the tensors sharing
    their storage take no arena bytes (`MemoryPlan.external` maps them to that input).
    """
    planner = ArenaPlanner(alignment)
    spans = lifetimes(graph)
    rep = storage_groups(graph, shares or {})
    groups: dict[str, list[int]] = {}
    for name, (first, last) in spans.items():
        g = groups.setdefault(rep[name], [first, last, 0])
        g[0], g[1] = min(g[0], first), max(g[1], last)
        g[2] = max(g[2], graph.tensors[name].nbytes)
    outside = {n: rep[n] for n in spans if rep[n] in external}
    for root in set(outside.values()):
        del groups[root]
    overlays = {o: i for o, i in (overlays or {}).items() if outside.keys().isdisjoint((o, i))}
    anchored = _anchored(groups, rep, overlays if len(banks or [None]) == 1 else None)
    ids: dict[str, int] = {}
    for root, (first, last, size) in groups.items():
        if root not in anchored:
            ids[root] = planner.add_buffer(size, first, last, root)
    for root, lead in anchored.items():
        first, last, size = groups[root]
        ids[root] = planner.add_buffer(size, first, last, root, anchor=ids[lead])
    scratch_ids: dict[int, int] = {}
    for i in range(len(graph.ops)):
        size = scratch_bytes(i) if scratch_bytes else 0
        if size:
            scratch_ids[i] = planner.add_buffer(size, i, i, f"scratch:{i}")
    banks = list(banks or [("", None)])
    if len(banks) == 1:                        # one arena: the single-arena planner, unchanged
        where, offset = [0] * len(planner.buffers), [planner.offset(b)
                                                     for b in range(len(planner.buffers))]
        sizes = [planner.arena_size]
    else:
        touched = _uses(graph, rep, scratch_ids)
        uses = [touched.get(b.name, 1) for b in planner.buffers]
        where, offset, sizes = split_banks(planner.buffers, [c for _, c in banks], alignment,
                                           uses)
        if any(c is not None and size > c for size, (_, c) in zip(sizes, banks)):
            whole = _in_one_bank(plan_memory(graph, scratch_bytes, alignment, shares,
                                             overlays=overlays, external=external), banks)
            if whole is not None:
                return whole
    spans = {n: v for n, v in spans.items() if n not in outside}
    plan = MemoryPlan(sizes[0], {n: offset[ids[rep[n]]] for n in spans},
                      {i: (offset[b], planner.buffers[b].size) for i, b in scratch_ids.items()},
                      tuple(planner.buffers), alignment,
                      tuple(Bank(name, cap, size) for (name, cap), size in zip(banks, sizes)),
                      {n: where[ids[rep[n]]] for n in spans if where[ids[rep[n]]]},
                      {i: where[b] for i, b in scratch_ids.items() if where[b]}, outside)
    plan.check()
    return plan


def _in_one_bank(single: MemoryPlan, banks) -> MemoryPlan | None:
    """A one-arena plan moved whole into the first bank that holds it (the fastest), or None.
    Used when splitting buffers over banks overflows one: a split cannot keep the overlays
    of patch-based stages (an output over its dying input) nor pack as tightly."""
    k = next((i for i, (_, cap) in enumerate(banks)
              if cap is None or single.arena_size <= cap), None)
    if k is None:
        return None
    sizes = [single.arena_size if i == k else 0 for i in range(len(banks))]
    plan = MemoryPlan(sizes[0], dict(single.offsets), dict(single.scratch), single.buffers,
                      single.alignment,
                      tuple(Bank(name, cap, size) for (name, cap), size in zip(banks, sizes)),
                      {n: k for n in single.offsets} if k else {},
                      {i: k for i in single.scratch} if k else {}, dict(single.external))
    plan.check()
    return plan


def _anchored(groups: dict[str, list[int]], rep: Mapping[str, str],
              overlays: Mapping[str, str] | None) -> dict[str, str]:
    """Storage group -> the group whose offset it takes (see `plan_memory`); its lifetime
    is moved past the writing step, where the two may share bytes."""
    anchored: dict[str, str] = {}
    for out, src in (overlays or {}).items():
        f, lead = rep.get(out), rep.get(src)
        if f is None or lead is None or f == lead or f in anchored:
            continue
        step = groups[lead][1]                 # the writing step: where the input dies
        lead = anchored.get(lead, lead)
        gf, gl = groups[f], groups[lead]
        if gf[0] == step and gf[1] > step and gf[2] <= gl[2] and gl[1] <= step:
            gf[0] += 1
            anchored[f] = lead
    return anchored


def _uses(graph: Graph, rep: Mapping[str, str], scratch_ids) -> dict[str, int]:
    """Buffer name -> how many steps touch it (the op writing it and every op reading it)."""
    steps: dict[str, set[int]] = {}
    for i, op in enumerate(graph.ops):
        for n in (*op.inputs, *op.outputs):
            if n in rep:
                steps.setdefault(rep[n], set()).add(i)
    out = {name: len(s) for name, s in steps.items()}
    out.update({f"scratch:{i}": 1 for i in scratch_ids})
    return out
