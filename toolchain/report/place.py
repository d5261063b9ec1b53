"""What the C backend emits for a model and where it lands, for the fit report.

Every constant array (symbol, owning op, aligned size), each op's live bytes, scratch, weights
and MACs, and the contents of every region as the lowering placed them: activations over the
RAM banks, code and parameters in the main flash region, weights where the layout put them;
plus what moved out of the main regions (the report's `moved`; the compiler's report too).
"""
from __future__ import annotations

import dataclasses

from ..backends.c import constant_arrays
from ..backends.clayouts import leaves
from ..backends.cmemory import input_region
from ..lowering.ccall import CArray, TensorRef
from ..ops import registry
from ..ops.registry import Node
from ..targets import Target
from .fit_report import Item, Measurement, Moved, OpUse, RegionUse


@dataclasses.dataclass(frozen=True)
class Array:
    """One constant array of model_weights.c: its C symbol, owner op and footprint."""
    symbol: str
    what: str
    op: int
    bytes: int                 # aligned footprint
    is_param: bool


def emitted_arrays(low) -> list[Array]:
    """Every array the C backend emits (after `c_context` named them), in emission order,
    each attributed to the first op that uses it (shared arrays count once)."""
    graph, owner = low.graph, {}
    for i, call in enumerate(low.calls):
        extra = [TensorRef(call.alias_of)] if call.alias_of is not None else []
        for leaf in [*leaves(call.params), *leaves(call.args), *extra]:
            owner.setdefault(leaf.key if isinstance(leaf, CArray) else leaf.name, i)
    label = lambda what, i: f"{what} of op {i} {graph.ops[i].kind}" if i >= 0 \
        else f"{what} (no op)"  # noqa: E731
    keys = [*low.weights, *low.arrays]           # the order constant_arrays lists them in
    return [Array(sym, label("parameters" if param else "weights", owner.get(key, -1)),
                  owner.get(key, -1), size, param)
            for key, (sym, size, param) in zip(keys, constant_arrays(low))]


def op_uses(low, arrays: list[Array]) -> list[OpUse]:
    graph, plan = low.graph, low.plan
    uses = []
    for i, op in enumerate(graph.ops):
        live = sum(b.size for b in plan.buffers if b.first <= i <= b.last)
        uses.append(OpUse(i, op.kind, op.outputs[0], live, plan.scratch.get(i, (0, 0))[1],
                          sum(a.bytes for a in arrays if a.op == i),
                          int(registry.get(op.kind).macs(Node.of(graph, op)))))
    return uses


def place(tgt: Target, low, ops: list[OpUse], arrays: list[Array], meas: Measurement,
          reserve: int) -> tuple[list[RegionUse], list[Moved]]:
    """Region contents as the lowering placed them: activations over the RAM banks (stack,
    static data and the reserve in the main one), code and parameters in the main flash region,
    weights where `low.weight_regions` put them; and what moved out of the main regions."""
    ram, flash, plan = tgt.ram_region, tgt.code_region, low.plan
    peak = max(ops, key=lambda o: o.live_bytes) if ops else None
    at = f" (peak at op {peak.index} {peak.kind})" if peak else ""
    contents = {r.name: [] for r in tgt.regions}
    caller = sum(low.graph.tensors[n].nbytes for n in low.graph.inputs if n in plan.external)
    if caller:
        home = input_region(tgt)
        contents[home].append(Item("caller-owned input buffers (--input-buffer caller)",
                                   caller, "inputs"))
    moved_whole = not plan.arena_size and any(b.size for b in plan.banks[1:])
    contents[ram.name] += ([] if moved_whole else    # the whole arena went to another bank
                           [Item("activation arena" + at, plan.arena_size, "arena")]) + [
        Item(what, v, key) for what, v, key in (
            ("static data", meas.static_ram_bytes, "static"),
            ("stack", meas.stack_bytes, "stack"),
            ("reserved for the application", reserve, "reserve")) if v]
    for bank in plan.banks[1:]:
        if bank.size:
            contents[bank.name].append(Item(f"activation arena (moved from {ram.name})",
                                            bank.size, "arena"))
    contents[flash.name] += [Item(what, v, key) for what, v, key in (
        ("code", meas.code_bytes, "code"), ("initialised data", meas.data_init_bytes, "data_init"),
        ("parameters", sum(a.bytes for a in arrays if a.is_param), "params")) if v]
    detail = {r.name: list(contents[r.name]) for r in tgt.regions}
    placed: dict[str, int] = {}
    for a in (a for a in arrays if not a.is_param):
        home = low.weight_regions.get(a.symbol, flash.name)
        placed[home] = placed.get(home, 0) + a.bytes
        detail[home].append(Item(a.what, a.bytes, f"weights:{a.symbol}"))
    moved = moved_activations(low, ram.name) + moved_weights(low, arrays, flash.name)
    for name, total in placed.items():
        main = name == flash.name
        contents[name].append(Item("weights" if main else "spilled weights", total,
                                   "weights" if main else "spilled_weights"))
    regions = [RegionUse(r.name, r.kind, r.base, r.size, tuple(contents[r.name]),
                         tuple(detail[r.name])) for r in tgt.regions]
    return regions, moved


def moved_weights(low, arrays: list[Array], main: str) -> list[Moved]:
    """One entry per weight array placed in a flash region other than the main one."""
    return [Moved(f"{a.what} ({a.symbol})", a.bytes, main, low.weight_regions[a.symbol])
            for a in arrays if low.weight_regions.get(a.symbol, main) != main]


def moved_activations(low, main: str) -> list[Moved]:
    """One entry per activation buffer the plan put in a bank other than the main RAM one."""
    graph, plan = low.graph, low.plan
    producer = {n: i for i, op in enumerate(graph.ops) for n in op.outputs}
    out = []
    for b in plan.buffers:
        k = plan.buffer_bank(b)
        if not k:
            continue
        if b.name.startswith("scratch:") and b.name not in plan.offsets:
            i = int(b.name[8:])
            what = f"scratch of op {i} {graph.ops[i].kind}"
        elif b.name in producer:
            i = producer[b.name]
            what = f"output of op {i} {graph.ops[i].kind}"
        else:
            what = f"model input {graph.inputs.index(b.name)}"
        out.append(Moved(what, b.size, main, plan.banks[k].name, "activations"))
    return out
