"""Does a model fit a target, region by region, and by how much.

Predicted from the lowering: the activation arena from the memory plan, and the weight and
per-channel parameter arrays exactly as the C backend emits them (aligned as emitted). Measured
where a guess would be wrong: runtime code and static data from the built ELF, stack from one
QEMU run. Where things go is the target's layout (plan/regions.py), the one the C backend emits:
activations over the RAM banks (main RAM minus stack, heap and --reserve-ram first), weights over
the flash regions; `moved` lists what left the main regions. Measurement method
(docs/report-schema.md explains it at length):
- the model is built with the QEMU harness for the target's emulation (the board's sizes on its
  core's machine, so ld enforces them); if that link overflows, the model is rebuilt with the
  machine's full memory to measure anyway and the linker's line is kept as `link`;
- a harness-only ELF (same startup, main and I/O buffers, a stub entry) is built once per
  target and I/O sizes: the symbols it defines are the harness's, not the model's;
- code = sum of `arm-none-eabi-nm -S` sizes of the model ELF's symbols in the main flash region
  that are neither the harness's nor the weight/parameter arrays; static RAM likewise for
  symbols in RAM, minus the arena; initialised data also counts in flash (its load image);
- stack = the harness's painted-stack high-water mark after one run on seeded random inputs.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .backends.c import bank_symbol, c_context, constant_arrays, lower
from .backends.clayouts import leaves
from .backends.clower import CArray, TensorRef
from .errors import FitmlError, ToolchainMissing, UsageError
from .ir import Graph
from .ops import registry
from .ops.registry import Node
from .plan.regions import layout_for
from .report import FitReport, Item, Measurement, Moved, OpUse, RegionUse
from .targets import Target, load_target

PREFIX = "model"               # the prefix cexec builds with: weight symbols are model_w<i>...
METHOD = ("ELF symbol sizes (arm-none-eabi-nm -S) minus a harness-only ELF's symbols; "
          "stack high-water mark of one QEMU run")
_STUB = ("int fitml_model_entry(const void *const in[], void *const out[]);\n"
         "int fitml_model_entry(const void *const in[], void *const out[])\n"
         "{\n    (void)in;\n    (void)out;\n    return 0;\n}\n")


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
    each attributed to the first op that uses it."""
    graph, owner = low.graph, {}
    for i, call in enumerate(low.calls):
        extra = [TensorRef(call.alias_of)] if call.alias_of is not None else []
        for leaf in [*leaves(call.params), *leaves(call.args), *extra]:
            owner.setdefault(id(leaf) if isinstance(leaf, CArray) else leaf.name, i)
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
    layout = layout_for(tgt, reserve_ram)
    low = lower(graph, PREFIX, layout=layout, variant=tgt.kernel_variant)
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
                     plain_layouts=plain)


def ram_fits(report: FitReport) -> bool:
    return all(r.used <= r.capacity for r in report.regions if r.kind == "ram")


def fit_partitioned(graph: Graph, target, ram: int | None = None, flash: int | None = None,
                    reserve_ram: int = 0, measure: bool = True,
                    partition="auto") -> FitReport:
    """`fit` with patch-based partitioning (passes/partition.py): `partition` "off", "auto"
    (only when the layer-by-layer plan overflows RAM: the cheapest partition in MACs within the
    activation budget left once stack, static data and the reserve are counted), or a grid
    "NxM" / (N, M) forced (the lowest peak with that grid). The report's `partition` says what
    was done, the peak before and after, and the MAC overhead."""
    from .passes.partition import parse_mode
    from .passes.partition_search import search
    from .report import activation_budget
    mode = parse_mode(partition) if isinstance(partition, str) else tuple(partition)
    if mode == "off":
        return fit(graph, target, ram, flash, reserve_ram, measure)
    label = mode if mode == "auto" else f"{mode[0]}x{mode[1]}"
    base = fit(graph, target, ram, flash, reserve_ram, measure)
    if mode == "auto" and ram_fits(base):
        return base
    budget = activation_budget(base) if mode == "auto" else None
    found = search(graph, budget, None if mode == "auto" else mode)
    for _ in range(3):
        if found is None:
            low = search(graph) if budget is not None else None
            why = (f"no patch-based partition fits the {budget:,} B left for activations"
                   + (f" (the lowest found: {low.peak_after:,} B, MACs +{low.overhead:.1%})"
                      if low is not None else "")
                   if budget is not None else "no patch-based partition lowers the peak")
            return dataclasses.replace(base, partition={"applied": False, "mode": label,
                                                        "reason": why})
        rep = fit(found.graph, target, ram, flash, reserve_ram, measure)
        info = dict(found.to_dict(), applied=True, mode=label)
        if mode != "auto" or ram_fits(rep) or rep.activations_peak_bytes > budget:
            return dataclasses.replace(rep, partition=info)
        budget -= max(r.used - r.capacity for r in rep.regions if r.kind == "ram")
        found = search(graph, budget)      # the stack or static data grew: a bit less room
    return dataclasses.replace(rep, partition=info)


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
    contents[ram.name] += [Item("activation arena" + at, plan.arena_size, "arena")] + [
        Item(what, v, key) for what, v, key in (
            ("caller-owned input buffers (--input-buffer caller)", caller, "inputs"),
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


def measure_elf(graph: Graph, tgt: Target, model_symbols: set[str], layout=None
                ) -> Measurement:
    """Build the model for the target (with the report's `layout`), measure code/static data
    by symbols and the stack by one QEMU run; anything that cannot be measured is None with
    the reason in `note`."""
    from .verify import cexec, qemu
    from .verify.ladder import random_inputs
    link = "ok"
    try:
        try:
            elf, emu = cexec.build_qemu(graph, tgt, layout=layout)
        except cexec.ExecutionError as exc:
            first = str(exc).splitlines()[0]
            if "overflowed" not in first and "models no memory" not in first:
                return Measurement(method=METHOD, note=first)
            link = first           # measure anyway: the machine's memory (and, for regions it
            elf, emu = cexec.build_qemu(   # lacks, the activations and weights it can hold)
                graph, roomy(tgt), layout=layout if "overflowed" in first else None)
        harness = harness_elf(graph, emu)
        code, static, data = symbol_sizes(elf, harness, emu, model_symbols | {"arena"})
        base = Measurement(code, static, data, method=METHOD, link=link, elf=str(elf),
                           harness_elf=str(harness))
        blobs = [a.tobytes() for a in random_inputs(graph, 1, seed=0)[0]]
        run = qemu.run_elf(elf, emu, blobs, len(graph.outputs), timeout=600)
    except ToolchainMissing as exc:
        return Measurement(method=METHOD, note=str(exc).splitlines()[0])
    except (FitmlError, subprocess.CalledProcessError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        return Measurement(method=METHOD, note=first, link=link)
    if run.exit_code != 0 or run.stack_bytes is None:
        why = run.fault() or f"exit {run.exit_code}"
        return dataclasses.replace(base, note=f"QEMU run failed ({why})")
    return dataclasses.replace(base, stack_bytes=run.stack_bytes,
                               instructions=run.instructions)


def roomy(tgt: Target) -> Target:
    """The emulation of `tgt` with every region grown to the end of the QEMU machine region
    it lies in (or to the next emulated region carved out of the same one)."""
    from .verify.cexec import emulation_target
    emu = emulation_target(tgt)
    machine = load_target(tgt.core).regions
    starts = sorted(r.base for r in emu.regions)

    def end(r):
        m = next((m for m in machine if m.base <= r.base < m.end), None)
        if m is None:
            return r.end
        return min([m.end] + [b for b in starts if r.base < b < m.end])
    return emu.with_regions([dataclasses.replace(r, size=end(r) - r.base) for r in emu.regions])


def harness_elf(graph: Graph, emu: Target) -> Path:
    """The QEMU harness alone (a stub model entry), built once per target and I/O sizes."""
    from .resources import resource_dir
    from .verify import cexec, qemu
    io = [graph.tensors[n].nbytes for n in graph.inputs]
    oo = [graph.tensors[n].nbytes for n in graph.outputs]
    h = hashlib.sha256(repr((emu, io, oo)).encode())
    for p in sorted((resource_dir("templates") / "harness").glob("*.j2")):
        h.update(p.read_bytes())
    out = cexec.cache_root() / f"harness-{h.hexdigest()[:24]}"
    if (out / "DONE").exists():
        return out / "harness.elf"
    tmp = Path(tempfile.mkdtemp(prefix=".harness-", dir=cexec.cache_root()))
    try:
        qemu.render_main(tmp, io, oo, entry="fitml_model_entry")
        (tmp / "stub.c").write_text(_STUB)
        qemu.build_elf([tmp / "main.c", tmp / "stub.c"], [], emu, tmp,
                       cflags=["-std=c99", "-pedantic"], name="harness")
        (tmp / "DONE").write_text("ok\n")
        try:
            os.rename(tmp, out)
        except OSError:                # another process finished the same build first
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out / "harness.elf"


def nm_sizes(elf) -> list[tuple[str, str, int, int]]:
    """(name, nm type letter, address, size) of every symbol that has a size."""
    from .verify.qemu import tool
    out = subprocess.run([tool("arm-none-eabi-nm"), "-S", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    rows = [ln.split() for ln in out.splitlines()]
    return [(p[3], p[2], int(p[0], 16), int(p[1], 16)) for p in rows if len(p) == 4]


def symbol_sizes(elf, harness, emu: Target, exclude: set[str]) -> tuple[int, int, int]:
    """(code, static RAM, initialised data) bytes of the model ELF's own symbols."""
    ignore = exclude | {name for name, *_ in nm_sizes(harness)}
    flash, rams = emu.code_region, [r for r in emu.regions if r.kind == "ram"]
    code = static = data = 0
    for name, kind, addr, size in nm_sizes(elf):
        if name in ignore:
            continue
        if flash.base <= addr < flash.end:
            code += size
        elif any(r.base <= addr < r.end for r in rams):
            static += size
            data += size if kind in "dD" else 0
    return code, static, data
