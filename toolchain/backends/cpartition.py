"""The C backend's side of patch-based partitioning (passes/partition*.py): what a candidate
costs, and the choice `fitml compile` / `verify` / `check` make on a target.

`plan_arena` is the `Costs` the pure search weighs candidates with: the graph scheduled and its
arena planned exactly as `lower()` would (fusion and scratch-free choices included), each op
lowered once per identity (`cached_lower`): the search lowers the ops outside a stage once, not
once per candidate.
"""
from __future__ import annotations

from ..ir import Graph, Node
from ..ops.patch_lowering import cached_lower
from ..passes import partition_search
from ..passes.partition import Partition, parse_mode
from ..passes.schedule import schedule_for_memory
from ..plan.memory import MemoryPlan
from ..plan.regions import layout_for
from ..targets import load_target
from .c import lower, plan_calls
from .cmemory import caller_input_bytes


def plan_arena(graph: Graph) -> tuple[Graph, MemoryPlan]:
    """(scheduled graph, its arena plan on one RAM bank) as `lower()` plans them."""
    graph = schedule_for_memory(graph)
    calls = [cached_lower(op, Node.of(graph, op)) for op in graph.ops]
    graph, _, plan = plan_calls(graph, calls)     # fusion + scratch-free choices, as lower()
    return graph, plan


def arena_peak(graph: Graph) -> int:
    """The activation arena the C backend plans for `graph` (one RAM bank), as `lower` does."""
    return partition_search.arena_peak(graph, plan_arena)


def search(graph: Graph, ram_budget: int | None = None, grid=None,
           **options) -> Partition | None:
    """partition_search.search priced by the C backend's plan (see there for `options`)."""
    return partition_search.search(graph, plan_arena, ram_budget, grid, **options)


def for_target(graph: Graph, target, partition="auto", reserve_ram: int = 0):
    """(graph to compile, Partition or None) on a target: "off"; "auto" partitions only when
    the layer-by-layer arena exceeds the RAM its layout leaves for activations (stack and heap
    counted as the target declares them); "NxM" or (N, M) forces that grid."""
    mode = parse_mode(partition) if isinstance(partition, str) else tuple(partition)
    if mode == "off":
        return graph, None
    if mode == "auto":
        tgt = load_target(target)
        layout = layout_for(tgt, reserve_ram, taken=caller_input_bytes(graph, tgt),
                            ops=len(graph.ops))
        sizes = [size for _, size in layout.banks]

        def fits(g: Graph) -> bool:
            plan = lower(g, layout=layout, variant=tgt.kernel_variant).plan
            return all(b.capacity is None or b.size <= b.capacity for b in plan.banks)
        if arena_peak(graph) <= sum(sizes) and fits(graph):
            return graph, None
        found = None
        # over several banks a buffer cannot straddle two: then the whole arena in the roomiest
        for budget in dict.fromkeys([min(sum(sizes), arena_peak(graph) - 1), max(sizes)]):
            found = search(graph, budget)
            if found is not None and fits(found.graph):
                break
    else:
        found = search(graph, None, mode)
    return (graph, None) if found is None else (found.graph, found)
