"""Does a model fit a target, region by region, and by how much.

Predicted from the lowering: the activation arena from the memory plan, and the weight and
per-channel parameter arrays exactly as the C backend emits them (aligned as emitted; see
place.py). Measured where a guess would be wrong: runtime code and static data from the
built ELF, stack from one QEMU run (measure.py). Where things go is the target's layout
(plan/regions.py), the one the C backend emits: activations over the RAM banks (main RAM minus
stack, heap and --reserve-ram first), weights over the flash regions; `moved` lists what left
the main regions.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from ..backends.c import c_context, lower
from ..backends.clowered import bank_symbol
from ..backends.cmemory import caller_input_bytes
from ..backends.cpartition import choose
from ..errors import UsageError
from ..ir import Graph
from ..passes.partition import parse_mode
from ..plan.regions import layout_for, ram_reservation
from ..targets import Target, load_target
from .fit_report import FitReport, Measurement
from .measure import METHOD, measure_elf
from .place import emitted_arrays, op_uses, place

PREFIX = "model"               # the prefix cexec builds with: weight symbols are model_w<i>...


def with_overrides(target: Target, ram: int | None, flash: int | None) -> Target:
    """The target with its main RAM / flash capacity replaced (tightened or widened)."""
    for value, flag in ((ram, "--ram"), (flash, "--flash")):
        if value is not None and value <= 0:
            raise UsageError(f"{flag} must be a positive size, got {value}")
    size = {target.ram_region.name: ram, target.code_region.name: flash}
    regions = tuple(dataclasses.replace(r, size=size[r.name]) if size.get(r.name) else r
                    for r in target.regions)
    return dataclasses.replace(target, regions=regions)


def fit(graph: Graph, target, ram: int | None = None, flash: int | None = None,
        reserve_ram: int = 0, measure: bool = True) -> FitReport:
    """The fit report of `graph` on `target` (a name, a .toml path or a Target)."""
    if reserve_ram < 0:
        raise UsageError(f"--reserve-ram must not be negative, got {reserve_ram}")
    tgt = with_overrides(load_target(target), ram, flash)
    layout = layout_for(tgt, reserve_ram, taken=caller_input_bytes(graph, tgt),
                        ops=len(graph.ops))
    low = lower(graph, PREFIX, layout=layout, variant=tgt.kernel_variant, core=tgt.core)
    c_context(low, tgt.name, "")       # names every emitted array and places it, as emit_c does
    arrays = emitted_arrays(low)
    ops = op_uses(low, arrays)
    symbols = {a.symbol for a in arrays} | {bank_symbol(PREFIX, b.name) for b in low.plan.banks}
    meas = measure_elf(graph, tgt, symbols, layout) if measure else Measurement(
        method=METHOD, note="measurement switched off")
    regions, moved = place(tgt, low, ops, arrays, meas, reserve_ram)
    src = graph.metadata.get("source", "")
    producer = {op.outputs[0]: i for i, op in enumerate(low.graph.ops)}
    plain = tuple({"op": producer[n], "kind": low.graph.ops[producer[n]].kind, "output": n}
                  for n in low.plain_layouts)
    return FitReport(tgt.name, tgt.core, Path(src).name if src else "", tuple(regions),
                     tuple(ops), low.plan.total_size, sum(a.bytes for a in arrays),
                     sum(a.bytes for a in arrays if a.is_param), meas, reserve_ram,
                     {"ram": ram, "flash": flash, "reserve_ram": reserve_ram}, tuple(moved),
                     plain_layouts=plain,
                     layouts=tuple(c.to_dict() for c in low.layout_choices),
                     bank_overflows=tuple((b.name, b.size, b.capacity) for b in low.plan.banks
                                          if b.capacity is not None and b.size > b.capacity),
                     ram_reservation=ram_reservation(tgt))


def ram_fits(report: FitReport) -> bool:
    return all(r.used <= r.capacity for r in report.regions if r.kind == "ram")


def fit_partitioned(graph: Graph, target, ram: int | None = None, flash: int | None = None,
                    reserve_ram: int = 0, measure: bool = True,
                    partition="auto") -> FitReport:
    """`fit` of the graph the build compiles: patch-based partitioning (passes/partition.py)
    chosen by `backends.cpartition.choose`, the one choice compile and verify make too:
    `partition` "off", "auto" (only when the layer-by-layer plan overflows the RAM banks) or a
    grid "NxM" / (N, M) forced. The report's `partition` says what was done, the peak before
    and after, and the MAC overhead (or why nothing fits)."""
    mode = parse_mode(partition) if isinstance(partition, str) else tuple(partition)
    label = mode if isinstance(mode, str) else f"{mode[0]}x{mode[1]}"
    tgt = with_overrides(load_target(target), ram, flash)
    choice = choose(graph, tgt, mode, reserve_ram)
    rep = fit(choice.graph, target, ram, flash, reserve_ram, measure)
    if choice.plan_why is not None:
        rep = dataclasses.replace(rep, memory_plan={"plan": "small", "why": choice.plan_why})
    if mode == "off":
        return rep
    if choice.found is not None:
        return dataclasses.replace(rep, partition=dict(choice.found.to_dict(), applied=True,
                                                       mode=label))
    if choice.reason is not None or mode != "auto":
        why = choice.reason or "no patch-based partition lowers the peak"
        return dataclasses.replace(rep, partition={"applied": False, "mode": label,
                                                   "reason": why})
    return rep
