"""DSP weight layouts within the flash budget, chosen by value.

The DSP/MVE kernels read pre-widened int16 copies of some weights (`filter_dsp`: about twice the
int8 bytes, plus per-group records). They buy speed with flash, so they must never cost the
fit: when a target's constants cannot be placed in its flash regions (the main one, then those
weights may spill to: plan/regions.py), only the layouts that save the most instructions per
byte of flash are kept (greedy by gain / bytes, each kept while the constants still fit; the
best single layout instead when it alone gains more). A layer's gain is estimated from the
measured cost table (lowering/layout_costs.py): its MACs times the insn/MAC its layout saves on
the core. The other layers run their int8 path, bit-exact, slower. The int8 table kernels
(ops/lut_lowering.py: 256 bytes for hundreds of instructions per element) are candidates too,
priced by the op's measured instructions per element; a dropped one runs the op's own kernel.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph
from ..lowering.ccall import CArray, CCall, TensorRef
from ..lowering.cvariant import plain_layouts
from ..lowering.layout_costs import insns_saved
from ..ops import lut_lowering, registry
from ..ops.registry import Node
from ..plan.arena import align_up
from ..plan.regions import Layout, place_weights

WEIGHT_ALIGN, PARAM_ALIGN = 16, 4      # as model_weights.c.j2 aligns the arrays


@dataclass(frozen=True)
class LayoutChoice:
    """One layer that can carry a layout: the flash it costs over its int8 path (0 for the
    later layers sharing a byte-identical layout), the instructions it saves (estimated),
    and whether it was kept."""
    op: int
    kind: str
    output: str
    bytes: int
    insns_saved: int
    kept: bool

    def to_dict(self) -> dict:
        return {"op": self.op, "kind": self.kind, "output": self.output, "bytes": self.bytes,
                "insns_saved_est": self.insns_saved, "kept": self.kept}


def leaves(value):
    """Every CArray / TensorRef inside a call's params or args (nested dicts, lists)."""
    if isinstance(value, (CArray, TensorRef)):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from leaves(v)


def _arrays(graph: Graph, call: CCall):
    """(key, footprint aligned as emitted, is_param) of a call's constant arrays."""
    for leaf in [*leaves(call.params), *leaves(call.args)]:
        if isinstance(leaf, CArray):
            param = leaf.role != "weights"
            yield (leaf.key, align_up(leaf.values.nbytes, PARAM_ALIGN if param
                                           else WEIGHT_ALIGN), param)
        elif graph.tensors[leaf.name].is_const:
            yield leaf.name, align_up(graph.tensors[leaf.name].nbytes, WEIGHT_ALIGN), False


def constant_arrays(graph: Graph, calls: list[CCall], memo: dict | None = None
                    ) -> list[tuple[str, int, bool]]:
    """(key, footprint aligned as emitted, is_param) of every constant array the calls
    reference, each once, weights before parameter arrays (as the C backend emits them).
    `memo` (id of a call -> its arrays) serves a search that re-places the same calls."""
    seen: set = set()
    weights, params = [], []
    for call in calls:
        if memo is None:
            arrays = _arrays(graph, call)
        else:
            arrays = memo.get(id(call))
            if arrays is None:
                arrays = memo[id(call)] = list(_arrays(graph, call))
        for key, size, param in arrays:
            if key not in seen:
                seen.add(key)
                (params if param else weights).append((key, size, param))
    return weights + params


def flash_fits(layout: Layout, graph: Graph, calls: list[CCall], memo: dict | None = None
               ) -> bool:
    """The constants can be placed: what stays in the main flash region fits it."""
    arrays = constant_arrays(graph, calls, memo)
    where = place_weights(layout, arrays)
    main = layout.main_flash
    return sum(size for key, size, _ in arrays if where[key] == main) <= layout.flashes[0][1]


LAYOUT_FIELDS = ("filter_dsp", "lut")    # DSP/MVE-only arrays a layer can give up


def layout_arrays(call: CCall) -> list[CArray]:
    """The call's own DSP arrays: its pre-widened weight layout, its ADD / SUB table."""
    params = call.params if isinstance(call.params, dict) else {}
    return [a for a in (params.get(f) for f in LAYOUT_FIELDS) if isinstance(a, CArray)]


def layout_bytes(call: CCall) -> int:
    """Bytes of the call's own DSP arrays (0 without any)."""
    return sum(a.values.nbytes for a in layout_arrays(call))


def footprint(graph: Graph, call: CCall) -> int:
    """Flash bytes of a call's constant arrays, aligned as emitted."""
    return sum(size for _, size, _ in _arrays(graph, call))


def choose(gains: dict[int, int], costs: dict[int, int], fits) -> set[int]:
    """The candidates to keep: greedy by gain per byte (each kept while `fits(kept)` holds),
    or the single best candidate that fits when it alone gains more (the knapsack's 1/2
    guarantee). `gains` and `costs` map candidate -> instructions saved / bytes spent."""
    order = sorted(gains, key=lambda i: (-gains[i] / max(costs[i], 1), -gains[i], i))
    kept: set[int] = set()
    for i in order:
        if fits(kept | {i}):
            kept.add(i)
    single = max((i for i in order if gains[i] > sum(gains[k] for k in kept)
                  and fits({i})), key=lambda i: gains[i], default=None)
    return {single} if single is not None else kept


def fit_layouts(graph: Graph, calls: list[CCall], layout: Layout | None, core: str | None = None,
                variant: str = "dsp", table: dict | None = None
                ) -> tuple[list[CCall], tuple[str, ...], tuple[LayoutChoice, ...]]:
    """(calls, layers whose layout was given up, the choice per layer) so the constants can be
    placed in the layout's flash regions (every layout kept when they fit, or without a
    layout), keeping the layouts with the most estimated instructions saved per byte (from the
    measured cost table, or `table` in its form)."""
    tables = {i for i, c in enumerate(calls) if lut_lowering.droppable(c, graph.ops[i].kind)}
    cands = [i for i, c in enumerate(calls) if layout_bytes(c) or i in tables]
    if not cands:
        return calls, (), ()
    ops = [graph.ops[i] for i in cands]
    with plain_layouts([op.outputs[0] for op in ops]):
        plain = {i: registry.get(op.kind).lower_c(Node.of(graph, op)) for i, op in zip(cands, ops)}
    costs = {i: max(0, footprint(graph, calls[i]) - footprint(graph, plain[i])) for i in cands}
    gains = {i: lut_lowering.insns_saved(Node.of(graph, graph.ops[i])) if i in tables else
             insns_saved(graph.ops[i].kind, calls[i].params,
                         registry.get(graph.ops[i].kind).macs(Node.of(graph, graph.ops[i])),
                         core, variant, table, graph.tensors[graph.ops[i].outputs[0]].size)
             for i in cands}
    # layers whose layouts are byte-identical (one weight shared) keep or drop them together:
    # the flash is spent once for all their gains
    groups: dict[tuple, list[int]] = {}
    for i in cands:
        groups.setdefault(tuple(a.key for a in layout_arrays(calls[i])), []).append(i)
    members = {g[0]: g for g in groups.values()}

    def mix(kept) -> list[CCall]:
        keep = {i for k in kept for i in members[k]}
        return [plain[i] if i in plain and i not in keep else c for i, c in enumerate(calls)]

    memo: dict = {}                     # the calls outlive the search: their ids stay theirs
    if layout is None or flash_fits(layout, graph, calls, memo):
        kept = set(members)
    elif not flash_fits(layout, graph, mix(set()), memo):
        kept = set()                    # too big even without layouts: the report says so
    else:
        kept = choose({k: sum(gains[i] for i in g) for k, g in members.items()},
                      {k: costs[k] for k in members},
                      lambda ks: flash_fits(layout, graph, mix(ks), memo))
    kept = {i for k in kept for i in members[k]}
    once = {i: costs[i] if i in members else 0 for i in cands}    # a shared layout's bytes
    choices = tuple(LayoutChoice(i, graph.ops[i].kind, graph.ops[i].outputs[0], once[i],
                                 gains[i], i in kept) for i in cands)
    return mix(kept), tuple(graph.ops[i].outputs[0] for i in cands if i not in kept), choices
