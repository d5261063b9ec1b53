"""Choosing patch-based stages and grids: candidates are weighed by their geometry first
(MACs, a lower bound of their live bytes), then planned with the real lowering and planner:
`costs`, which the backend provides (backends/cpartition.py: the C backend's plan), so that
this pass emits nothing itself.

Rounds are greedy: each adds a stage covering the op where the plan reaches its top, possibly
replacing stages it overlaps, until the arena fits the budget. Stages of one op (split along
rows or columns) cost no extra MACs; longer stages recompute their halos.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Node, Op
from ..ops import patch_boxes as pb
from ..ops import registry
from ..ops.patch_plan import stage_tensors
from ..plan.live import live_per_step, top_per_step
from .partition import GRIDS, KIND, Partition, Stage
from .partition_memo import Costs, StageOps, remembered


def arena_peak(graph: Graph, costs: Costs) -> int:
    """The activation arena `costs` plans for `graph`."""
    return costs(graph)[1].arena_size


def peak_op(graph: Graph, costs: Costs) -> str:
    """The output name of the op at which the plan reaches its top (the highest byte in use;
    among equals, the most bytes live)."""
    scheduled, plan = costs(graph)
    offsets = [plan.offsets[b.name] if b.name in plan.offsets
               else plan.scratch[int(b.name[8:])][0] for b in plan.buffers]
    steps = len(scheduled.ops)
    top = top_per_step(plan.buffers, offsets, steps)
    live = live_per_step(plan.buffers, steps)
    return scheduled.ops[max(range(steps), key=lambda i: (top[i], live[i]))].outputs[0]


def op_macs(graph: Graph, op: Op) -> int:
    return registry.get(op.kind).macs(Node.of(graph, op))


def total_macs(graph: Graph) -> int:
    return sum(op_macs(graph, op) for op in graph.ops)


def ranges(graph: Graph, first: int, last: int):
    """(start, end) of the runs of spatial ops covering ops first..last, starting at a
    windowed op."""
    for start in range(first, -1, -1):
        if graph.ops[start].kind not in pb.SUPPORTED:
            break
        if graph.ops[start].kind not in pb.WINDOWED:
            continue
        for end in range(last, len(graph.ops)):
            if graph.ops[end].kind not in pb.SUPPORTED:
                break
            yield start, end


def grids_for(graph: Graph, end: int, grid=None):
    out = graph.tensors[graph.ops[end].outputs[0]]
    if len(out.shape) != 4:
        return []
    return [g for g in ([tuple(grid)] if grid is not None else GRIDS)
            if g[0] <= out.shape[1] and g[1] <= out.shape[2]]


def estimate(graph: Graph, stage: Op, along=None) -> tuple[int, int]:
    """(MACs, lower bound of the bytes live while it runs) of a stage, from its geometry: the
    input, the output unless laid over it, and the largest patch input + output of one op.
    `along(stage, tensors, parts, axis)`: pb.axis_spans of its ops (StageOps.spans remembers
    them)."""
    tensors = stage_tensors(stage, graph.op_inputs(stage))
    subs, (rows, cols) = stage.attr("ops"), stage.attr("grid")
    x, y = tensors[stage.inputs[0]], tensors[stage.outputs[0]]
    if along is None:
        spans = [pb.axis_spans(subs, tensors, y.name, n, a) for a, n in ((0, rows), (1, cols))]
    else:
        spans = [along(stage, tensors, n, a) for a, n in ((0, rows), (1, cols))]
    total = lambda name, a: sum(hi - lo for lo, hi in spans[a][name])  # noqa: E731
    px = {n: t.shape[3] * np.dtype(t.dtype).itemsize for n, t in tensors.items()
          if not t.is_const}
    macs, biggest = 0, 0
    for k, sub in enumerate(subs):
        n = Node(sub, tuple(tensors.get(i) if i else None for i in sub.inputs),
                 tuple(tensors[o] for o in sub.outputs))
        oh, ow = n.outs[0].shape[1:3]
        per_pixel = registry.get(sub.kind).macs(n) // max(oh * ow, 1)
        name = sub.outputs[0]
        macs += per_pixel * total(name, 0) * total(name, 1)
        reads = [t for t in pb.activation_inputs(sub, tensors) if t != x.name]
        writes = [name] if k < len(subs) - 1 else []
        live = reads + writes          # bytes of patch (i, j): sum of rows_t[i] cols_t[j] px_t
        if live:
            h = np.array([[hi - lo for lo, hi in spans[0][t][:rows]] for t in live], np.int64)
            w = np.array([[hi - lo for lo, hi in spans[1][t][:cols]] for t in live], np.int64)
            b = np.einsum("ti,tj->ij", h * np.array([px[t] for t in live], np.int64)[:, None],
                          w)
            biggest = max(biggest, int(b.max()))
    return macs, x.nbytes + (0 if stage.attr("in_place") else y.nbytes) + biggest


def step_live(graph: Graph, stage_out: str, costs: Costs) -> tuple[int, tuple[int, ...], int]:
    """(arena, live bytes per step sorted from the largest, bytes live at the op writing
    `stage_out`). Comparing the sorted profiles tells a plan with fewer steps at the peak."""
    scheduled, plan = costs(graph)
    live = live_per_step(plan.buffers, len(scheduled.ops))
    i = next(k for k, op in enumerate(scheduled.ops) if stage_out in op.outputs)
    return plan.arena_size, tuple(sorted(live, reverse=True)), live[i]


def _rounds(graph: Graph, budget: int, grid, max_overhead, max_rounds: int, limit: int,
            costs: Costs):
    """(stages, arena, graph) after greedy rounds towards `budget` (best effort)."""
    macs0 = total_macs(graph)
    cur, stages = graph, []
    arena, profile, _ = step_live(graph, graph.ops[0].outputs[0], costs)
    memo: dict = {}
    layer_macs: dict = {}         # (start, end) -> the MACs of those ops, layer by layer
    made = StageOps(graph)        # one Op per stage: the backend lowers it once
    formable: dict = {}           # (start, end) -> can form a stage; the grid does not matter
                                  # (every grid of grids_for fits the output)

    def cost(st):                 # (extra MACs, live lower bound) of one stage, memoized
        if st not in memo:
            op = made.op(*st)
            macs, low = estimate(graph, op, made.spans)
            if st[:2] not in layer_macs:
                layer_macs[st[:2]] = sum(op_macs(graph, o) for o in op.attr("ops"))
            memo[st] = (macs - layer_macs[st[:2]], low)
        return memo[st]

    for _ in range(max_rounds):
        if arena <= budget:
            break
        first, last = _top_ops(graph, cur, stages, costs)
        found = []
        for start, end in ranges(graph, first, last):
            keep = [st for st in stages if st[1] < start or st[0] > end]
            for g in grids_for(graph, end, grid):
                if (start, end) not in formable:
                    formable[start, end] = made.op(start, end, g) is not None
                if not formable[start, end]:
                    break
                extra, low = cost((start, end, g))
                total = extra + sum(cost(st)[0] for st in keep)
                if (max_overhead is not None and total > max_overhead * macs0) or \
                        low >= profile[0]:
                    continue
                # cheapest in MACs; then fewest patches (flash, call overhead); then memory
                found.append((low > budget, total, g[0] * g[1], low, start, end, g, keep))
        found.sort(key=lambda c: c[:-1])
        best = fitting = lowest = None
        for *_, start, end, g, keep in found[:limit]:
            plan = sorted(keep + [(start, end, g)])
            new = made.apply(plan)
            a, m, own = step_live(new, graph.ops[end].outputs[0], costs)
            if m >= profile:
                continue
            cand = (a, m, sum(cost(st)[0] for st in plan), plan, new)
            if a <= budget:
                best = cand                          # the cheapest that fits: done
                break
            if own <= budget:                        # its step fits: the peak moves on
                fitting = min(fitting or cand, cand, key=lambda c: (c[2], _patches(c), c[0]))
            else:
                lowest = min(lowest or cand, cand, key=lambda c: (c[1], c[0], c[2]))
        best = best or fitting or lowest
        if best is None:
            break
        arena, profile, _, stages, cur = best
    return stages, arena, cur


def _patches(cand) -> int:
    return sum(g[0] * g[1] for _, _, g in cand[3])


def _top_ops(graph: Graph, cur: Graph, stages, costs: Costs) -> tuple[int, int]:
    """First and last original op of what runs where the current plan tops out."""
    top = peak_op(cur, costs)
    at = next((i for i, op in enumerate(graph.ops) if top in op.outputs), None)
    st = next((st for st in stages if top == graph.ops[st[1]].outputs[0]), None)
    return (st[0], st[1]) if st is not None else (at, at)


def search(graph: Graph, costs: Costs, ram_budget: int | None = None, grid=None,
           max_overhead: float | None = None, max_rounds: int = 16,
           limit: int = 80) -> Partition | None:
    """The partition: with `ram_budget`, the cheapest found in MACs whose arena fits it (None
    if none does); without, the lowest arena found (None if nothing lowers it).

    A round's candidate must lower the live profile (bytes live per step, sorted from the
    largest, compared lexicographically: the peak, then how many steps reach it); the round
    takes the cheapest candidate whose arena fits the budget, else the cheapest whose own step
    fits it (the peak moves on to other layers, covered by later rounds), else the lowest
    profile. `grid` fixes every stage's grid; `max_overhead` bounds the extra MACs over the
    model's; `limit` the candidates planned per round. `costs` plans each candidate."""
    costs = remembered(costs)               # the model and each round's choice: once
    before = arena_peak(graph, costs)
    args = (grid, max_overhead, max_rounds, limit, costs)
    if ram_budget is not None:
        stages, arena, cur = _rounds(graph, ram_budget, *args)
        return _result(graph, stages, arena, cur, before) if arena <= ram_budget else None
    best = None
    target = before // 2                     # a stretch goal, then below whatever is reached
    for _ in range(3):
        stages, arena, cur = _rounds(graph, target, *args)
        if not stages or arena >= (best.peak_after if best else before):
            break
        best = _result(graph, stages, arena, cur, before)
        target = arena - 1
    return best


def _result(graph, stages, arena, cur, before) -> Partition | None:
    if not stages or arena >= before:
        return None
    out = tuple(Stage(a, b, g, bool(next(op for op in cur.ops if op.kind == KIND and
                                         op.outputs == graph.ops[b].outputs).attr("in_place")))
                for a, b, g in stages)
    return Partition(cur.validate(), out, before, arena, total_macs(graph), total_macs(cur))


def partition(graph: Graph, costs: Costs, ram_budget: int | None = None, grid=None) -> Graph:
    """Graph -> Graph: the cheapest partition in MACs whose arena fits `ram_budget` (without
    one: the lowest peak found), or the graph unchanged."""
    found = search(graph, costs, ram_budget, grid)
    return graph if found is None else found.graph
