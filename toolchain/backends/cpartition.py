"""The C backend's side of patch-based partitioning (passes/partition*.py): what a candidate
costs, and the choice `fitml compile` / `verify` / `check` make on a target.

`plan_arena` is the `Costs` the pure search weighs candidates with: the graph scheduled and its
arena planned exactly as `lower()` would (fusion and scratch-free choices included), each op
lowered once per identity (`cached_lower`): the search lowers the ops outside a stage once, not
once per candidate.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph, Node
from ..ops.patch_cache import cached_lower
from ..passes import partition_search
from ..passes.partition import Partition, parse_mode
from ..passes.schedule import schedule_for_memory
from ..plan.memory import MemoryPlan
from ..plan.regions import layout_for
from ..targets import load_target
from .c import lower, plan_calls
from .cmemory import SMALL_PLAN, caller_input_bytes, plan_forced, with_small_plan


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


FALLBACK_GRIDS = tuple(sorted(((r, c) for r in range(1, 5) for c in range(1, 5)
                               if (r, c) != (1, 1)), key=lambda g: (g[0] * g[1], g)))


@dataclass(frozen=True)
class Choice:
    """What `choose` decided: the graph to compile, its Partition (None: layer by layer) and,
    when auto found none that fits, why (one line, numbers that agree with each other)."""
    graph: Graph
    found: Partition | None
    reason: str | None = None
    plan_why: str | None = None    # why the small-arena plan (auto), when it was chosen


def choose(graph: Graph, target, partition="auto", reserve_ram: int = 0,
           layout=None) -> Choice:
    """The plan `fitml check`, `compile` and `verify` all use on a target (a Target or
    name), the fastest that fits: the fast plan, else a partition, else (unless `--memory`
    forces a plan) the small-arena plan (the graph marked `with_small_plan`: fused residual
    ADDs, scratch-free kernels at the peak; see `_small`). `partition` "off" never partitions;
    "auto" partitions only when the layer-by-layer plan overflows the RAM banks
    the layout leaves for activations (stack and heap as the target declares them), then takes
    the cheapest partition in MACs whose plan fits the banks: the greedy search over every
    grid, else each grid alone (the grids `--partition NxM` accepts, fewest patches first, the
    lowest MAC overhead among them); "NxM" or (N, M) forces that grid (its lowest peak)."""
    mode = parse_mode(partition) if isinstance(partition, str) else tuple(partition)
    if mode not in ("off", "auto"):
        found = search(graph, None, mode)
        return Choice(graph if found is None else found.graph, found)
    tgt = load_target(target)
    if layout is None:
        layout = layout_for(tgt, reserve_ram, taken=caller_input_bytes(graph, tgt),
                            ops=len(graph.ops))
    sizes = [size for _, size in layout.banks]

    def fits(g: Graph) -> bool:
        plan = lower(g, layout=layout, variant=tgt.kernel_variant, core=tgt.core).plan
        return all(b.capacity is None or b.size <= b.capacity for b in plan.banks)
    peak = arena_peak(graph)
    if peak <= sum(sizes) and fits(graph):
        return Choice(graph, None)
    if mode == "off":
        return _small(graph, peak, sum(sizes), fits) or Choice(graph, None)
    # over several banks a buffer cannot straddle two: then the whole arena in the roomiest
    budgets = list(dict.fromkeys([min(sum(sizes), peak - 1), min(max(sizes), peak - 1)]))
    for budget in budgets:
        found = search(graph, budget)
        if found is not None and fits(found.graph):
            return Choice(found.graph, found)
    best = None
    for grid in FALLBACK_GRIDS:
        if best is not None and grid[0] * grid[1] > _patches(best):
            break
        for budget in budgets:
            found = search(graph, budget, grid)
            if found is not None and fits(found.graph):
                best = found if best is None or found.overhead < best.overhead else best
                break
    if best is not None:
        return Choice(best.graph, best)
    low = search(graph)                 # the lowest peak, whatever its MACs
    if low is not None and fits(low.graph):
        return Choice(low.graph, low)
    return _small(graph, peak, sum(sizes), fits) or Choice(graph, None, _why_none(low, layout))


def _small(graph: Graph, peak: int, room: int, fits) -> Choice | None:
    """The small-arena plan when it fits and `--memory` forces nothing: tried after the
    partitions, as it is the slower way out (its scratch-free kernels give up the DSP paths:
    MLPerf KWS on an M4 whose RAM the fast plan overflows by 760 B runs 11.6 M instructions
    small, 3.45 M partitioned)."""
    if plan_forced() or graph.metadata.get("memory") == SMALL_PLAN:
        return None
    small = with_small_plan(graph)
    small_peak = arena_peak(small)
    if small_peak > room or not fits(small):
        return None
    return Choice(small, None, plan_why=(
        f"the fast plan's activations need {peak:,} B, {room:,} B are left for them; the "
        f"small plan's {small_peak:,} B fit: bit-exact, more instructions"))


def _patches(found: Partition) -> int:
    return max(st.grid[0] * st.grid[1] for st in found.stages)


def _why_none(low: Partition | None, layout) -> str:
    banks = " + ".join(f"{name} {size:,} B" for name, size in layout.banks)
    room = (f"the {sum(s for _, s in layout.banks):,} B left for activations ({banks})"
            if len(layout.banks) > 1 else f"the {layout.banks[0][1]:,} B left for activations")
    if low is None:
        return f"no patch-based partition lowers the activation peak below {room}"
    lowest = f"the lowest peak found: {low.peak_after:,} B, MACs +{low.overhead:.1%}"
    if low.peak_after <= sum(s for _, s in layout.banks):
        lowest += ", but its buffers do not fit the banks (a buffer cannot straddle two)"
    return f"no patch-based partition fits {room} ({lowest})"


def for_target(graph: Graph, target, partition="auto", reserve_ram: int = 0):
    """(graph to compile, Partition or None) on a target: `choose`'s."""
    choice = choose(graph, target, partition, reserve_ram)
    return choice.graph, choice.found
