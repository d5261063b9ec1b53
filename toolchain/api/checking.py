"""`verify`, `check` and `report`: does the compiled model run exactly, and does it fit?

verify runs the reference, host C, QEMU and TFLite Micro on given and random inputs; check
and report give the FitReport (report/fit.py). All three, and compile, take the same --partition
values (partition_mode, partitioned): patch-based execution of the first layers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backends.c import lower
from ..backends.cpartition import for_target
from ..errors import DoesNotFit, FitmlError, NoKernel, UsageError
from ..ir import Graph
from ..ops.interpreter import run_graph
from ..passes.partition import parse_mode
from ..report.fit import fit_partitioned, with_overrides
from ..report.mobile import mobile_fit
from ..targets import load_target, parse_size
from ..verify.cexec import run_qemu
from ..verify.ladder import random_inputs, verify as _verify
from ..verify.qemu_build import build_qemu
from .core import inspect, load


def verify(model, target: str = "cortex-m4", inputs=None, random: int = 3,
           executors=None, partition="auto", ram=None, flash=None,
           profile: bool = False) -> dict:
    """Reference vs host C vs QEMU vs TFLite Micro (float models too) on given and random
    inputs.
    With patch-based partitioning (`partition`, as `compile`), the partitioned graph runs
    everywhere but TFLite Micro, which runs the model as given; `unpartitioned` then says
    whether the partitioned reference equals the layer-by-layer one on every case.
    `ram` / `flash` replace the target's main RAM / flash capacity (e.g. a Cortex-M4 core with
    "66K" of flash): the DSP layouts that fit are chosen for it and the QEMU build links in it,
    so a program that does not fit fails like on a board (DoesNotFit, naming the region).
    `profile`: report key `profile`, the first case's instructions per op and estimated
    cycles (verify/profile.py)."""
    graph = load(model)
    tgt = target_with(target, ram, flash)
    if tgt.kind == "mobile":
        raise UsageError(f"{tgt.name} is a mobile target (.tflite for LiteRT); verify runs C "
                         "on Cortex-M cores (e.g. --target cortex-m4), or use `fitml run "
                         "--executor litert`")
    cases = ([list(inputs)] if inputs else []) + random_inputs(graph, random)
    if profile and not cases:
        raise UsageError("--profile runs the first input: give -i X.npy or --random N >= 1")
    original = graph
    graph, part = partitioned(graph, tgt, partition)
    plan = memory_plan(graph)
    if executors is None or "qemu" in executors:
        links(graph, tgt, model)
    report = _verify(graph, tgt, cases, executors)     # the Target: user .toml boards too
    report["target"] = tgt.name
    if plan is not None:
        report["memory_plan"] = plan
    if ram is not None or flash is not None:
        report["overrides"] = {"ram": tgt.ram_region.size if ram is not None else None,
                               "flash": tgt.code_region.size if flash is not None else None}
    if profile:
        prof = run_qemu(graph, cases[0], target=tgt, profile=True).stats["profile"]
        prof.normal_instructions = report["stats"].get("instructions")
        report["profile"] = prof.to_dict()
    if part is not None:
        same = all(np.array_equal(a, b) for c in cases
                   for a, b in zip(run_graph(original, c), run_graph(graph, c)))
        report["partition"] = dict(part, unpartitioned_bit_exact=same)
        report["bit_exact"] = report["bit_exact"] and same
        report["ok"] = report["ok"] and (same or not np.issubdtype(
            np.dtype(original.tensors[original.outputs[0]].dtype), np.integer))
    stats = report["stats"]
    stats["macs"] = inspect(graph)["macs"]
    stats["arena_bytes"] = lower(graph).plan.arena_size
    if "text" in stats:     # whole harness ELF: flash = load image, RAM = static + stack
        stats["flash_bytes"] = stats["text"] + stats["rodata"] + stats["data"]
        stats["ram_bytes"] = stats["data"] + stats["bss"] + (stats["stack_bytes"] or 0)
    return report


def target_with(target, ram=None, flash=None):
    """The target (name, .toml or Target) with its main RAM / flash capacity replaced (sizes
    as ints or strings such as "66K"); UsageError for a size that is not positive."""
    tgt = load_target(target)
    if ram is None and flash is None or tgt.kind == "mobile":
        return tgt
    size = lambda v: None if v is None else parse_size(v)  # noqa: E731
    return with_overrides(tgt, size(ram), size(flash))


def links(graph: Graph, tgt, model) -> None:
    """Build the QEMU harness first (cached for the runs): a link that overflows a region
    raises DoesNotFit naming the region and the bytes, as on the board."""
    try:
        build_qemu(graph, tgt)
    except FitmlError as exc:       # other failures: the ladder reports them per executor
        first = str(exc).splitlines()[0]
        if first.startswith("link failed"):
            name = model if isinstance(model, (str, Path)) else graph.metadata.get("source")
            sizes = ", ".join(f"{r.name} {r.size:,} B" for r in tgt.regions)
            raise DoesNotFit(f"{name or 'the model'} does not fit {tgt.name} ({sizes}): "
                             f"{first}") from None


def check(model, target: str, ram=None, flash=None, reserve_ram=0, measure: bool = True,
          partition="auto"):
    """Does the model fit the target? The FitReport (`.fits`, per-region use, per-op memory);
    ram/flash replace the main RAM/flash capacity, reserve_ram keeps bytes for the application
    (each an int or a size string such as "256K"). `partition`: "auto" runs the first layers
    patch by patch when the layer-by-layer activations overflow RAM, "off", or a grid "NxM"
    (the report's `partition` gives the peak before and after and the MAC overhead).
    On a mobile target: a MobileReport (report/mobile.py), --flash / --ram as the .tflite's
    app-size and LiteRT's memory budgets."""
    size = lambda v: None if v is None else parse_size(v)  # noqa: E731
    graph = load(model)
    tgt = load_target(target)
    if tgt.kind == "mobile":        # a phone: the .tflite and LiteRT on the host
        return mobile_fit(graph, tgt.name, size(flash), size(ram), measure)
    try:
        return fit_partitioned(graph, target, size(ram), size(flash), size(reserve_ram) or 0,
                               measure, grid_within(graph, partition_mode(partition)))
    except NoKernel as exc:          # name the model file too
        raise NoKernel(f"{graph.metadata.get('path', model)}: {exc}") from None


def report(model, target: str, ram=None, flash=None, reserve_ram=0, measure: bool = True,
           partition="auto"):
    """The same FitReport as `check` (the CLI's `report` verb exits 0 whatever the verdict)."""
    return check(model, target, ram, flash, reserve_ram, measure, partition)


def partition_mode(partition):
    """A --partition value checked: "off", "auto" or (rows, cols); UsageError otherwise."""
    if not isinstance(partition, str):
        return tuple(partition)
    try:
        return parse_mode(partition)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def grid_within(graph: Graph, mode):
    """`mode`, or a UsageError when a grid "NxM" is finer than every feature map of the model
    (a patch is at least one row and one column of a layer's output)."""
    if mode in ("off", "auto"):
        return mode
    maps = [graph.tensors[n].shape for op in graph.ops for n in op.outputs[:1]
            if n and len(graph.tensors[n].shape) == 4]
    rows, cols = max((s[1] for s in maps), default=0), max((s[2] for s in maps), default=0)
    if not maps:
        raise UsageError(f"--partition {mode[0]}x{mode[1]}: the model has no NHWC feature map "
                         "to run patch by patch; use --partition off")
    if mode[0] > rows or mode[1] > cols:
        raise UsageError(f"--partition {mode[0]}x{mode[1]}: finer than any layer's output "
                         f"(at most {rows}x{cols} rows x columns in this model)")
    return mode


def partitioned(graph: Graph, tgt, partition) -> tuple[Graph, dict | None]:
    """(graph to run, partition summary or None) for compile and verify on `tgt`."""
    mode = grid_within(graph, partition_mode(partition))
    graph, found = for_target(graph, tgt, mode)
    if found is None:
        return graph, None
    return graph, dict(found.to_dict(), mode=mode if mode == "auto" else f"{mode[0]}x{mode[1]}")


def memory_plan(graph: Graph) -> dict | None:
    """The plan the board's choice recorded on the graph (cpartition.choose), for reports."""
    return {"plan": "small"} if graph.metadata.get("memory") == "small" else None

