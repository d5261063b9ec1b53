"""Executors that run generated C: `host` (gcc with ASan/UBSan) and `qemu` (Cortex-M).

Builds are cached by a hash of every generated source, the runtime and the flags, so each model
is compiled once per machine however many inputs run through it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from ..backends import cruntime
from ..backends.c import emit_c, lower
from ..backends.clayouts import constant_arrays
from ..backends.cstatus import describe_status
from ..errors import FitmlError, ToolchainMissing
from ..ir import Graph
from ..ops import registry
from ..ops.interpreter import NP_DTYPES, check_inputs
from ..ops.registry import Node
from ..plan.regions import code_allowance, layout_for, place_weights, ram_reservation
from ..resources import resource_dir
from ..targets import KINDS, Region, TargetError, load_target
from . import qemu
from .cache import cache_root
from .profile import Profile, spans
from .registry import RunResult, executor

HOST_FLAGS = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pedantic",
              "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
              "-fno-omit-frame-pointer"]
PREFIX = "model"


class ExecutionError(FitmlError):
    """Generated code failed to build or run."""


def runtime_files(variant: str = "portable", files: dict[str, str] | None = None
                  ) -> tuple[Path, list[Path]]:
    """The runtime's include dir and the C sources of the given variant: one per kernel, only
    the kernels the generated `files` call when given."""
    kernels = None if files is None else used_kernels(files)
    return cruntime.include_dir(), cruntime.runtime_sources(kernels, variant=variant)


def used_kernels(files: dict[str, str]) -> list[str]:
    """Runtime kernels the generated sources call (read from the sources themselves, so the
    list always matches what was emitted, whichever memory plan chose the kernels)."""
    called = set()
    for name, text in files.items():
        if not name.endswith("_weights.c"):   # constant arrays only: megabytes, no calls
            called.update(_CALL.findall(text))
    return [k for k in cruntime.kernel_files() if k in called]


_CALL = re.compile(r"\b(fitml_\w+)\s*\(")


def variant_for(target) -> str:
    """Which kernel variant a core runs: MVE (Helium), DSP (SMLAD) or portable C."""
    return target.kernel_variant


def _digest(files: dict[str, str], *extra: str) -> str:
    h = hashlib.sha256()
    include, sources = runtime_files()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    src = resource_dir("runtime_c") / "src"
    for path in sorted(include.rglob("*.h")) + sorted(src.rglob("*.[ch]")):
        h.update(str(path.name).encode() + path.read_bytes())
    for e in extra:
        h.update(e.encode() + b"\0")
    return h.hexdigest()[:24]


def _materialize(files: dict[str, str], key: str) -> tuple[Path, bool]:
    """The cache dir for `key`, with the files written; True when a finished build is there."""
    out = cache_root() / key
    if (out / "DONE").exists():
        return out, True
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)
    return out, False


def _model_sources(out: Path) -> list[Path]:
    return [out / f"{PREFIX}.c", out / f"{PREFIX}_weights.c"]


def build_host(graph: Graph) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        raise ToolchainMissing("host gcc not found: run ./setup.sh")
    files = emit_c(graph, PREFIX, "host", extra={"harness/host_main.c.j2": "main.c"})
    out, done = _materialize(files, _digest(files, "host", *HOST_FLAGS))
    exe = out / "model_host"
    if done:
        return exe
    include, sources = runtime_files(files=files)
    cmd = [gcc, *HOST_FLAGS, f"-I{include}", f"-I{out}", *map(str, _model_sources(out)),
           str(out / "main.c"), *map(str, sources), "-o", str(exe), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ExecutionError(f"host build failed:\n{proc.stderr[-4000:]}")
    (out / "DONE").write_text("ok\n")
    return exe


def _outputs(graph: Graph, blobs: Sequence[bytes]) -> list[np.ndarray]:
    arrays = []
    for name, blob in zip(graph.outputs, blobs):
        t = graph.tensors[name]
        arrays.append(np.frombuffer(blob, NP_DTYPES[t.dtype]).reshape(t.shape).copy())
    return arrays


@executor("host")
def run_host(graph: Graph, inputs, **_) -> RunResult:
    args = check_inputs(graph, inputs)
    exe = build_host(graph)
    with tempfile.TemporaryDirectory(prefix="fitml-host-") as tmp:
        ins = [Path(tmp) / f"in{i}.bin" for i in range(len(args))]
        outs = [Path(tmp) / f"out{i}.bin" for i in range(len(graph.outputs))]
        for path, value in zip(ins, args):
            path.write_bytes(np.ascontiguousarray(value).tobytes())
        proc = subprocess.run([str(exe), *map(str, ins), *map(str, outs)], capture_output=True,
                              text=True, timeout=600)
        if proc.returncode != 0:
            failed = re.search(rf"{PREFIX}_invoke returned (\d+)", proc.stderr)
            why = describe_status(int(failed.group(1)), (exe.parent / f"{PREFIX}.c").read_text()
                                  ) + "\n" if failed else ""
            raise ExecutionError(f"host run failed (exit {proc.returncode}): {why}"
                                 f"{proc.stderr[-4000:]}")
        return RunResult(_outputs(graph, [p.read_bytes() for p in outs]))


def emulation_target(target):
    """The target as its core's QEMU machine runs it: each region moved to the base of a
    machine region of the same kind (main onto main, the others in order) but keeping the
    board's name and size, so the generated linker script enforces the board's real sizes.
    A size larger than the machine's region is capped to it. Board regions left over (more
    banks than the machine has regions) are carved, 1 KiB aligned, from the top of the unused
    tails of the machine's regions of their kind (the main region can then still grow, see
    report/measure.roomy), so activations spread over RAM banks run on QEMU too; those that
    find no room are dropped. Cores (and files without a loadable core) come back unchanged."""
    target = load_target(target)
    try:
        machine = load_target(target.core)
    except TargetError:
        return target
    regions = []
    for kind in KINDS:
        mine = [r for r in target.regions if r.kind == kind]
        theirs = [r for r in machine.regions if r.kind == kind]
        regions += [Region(r.name, kind, m.base, min(r.size, m.size))
                    for r, m in zip(mine, theirs)]
        tails = [[-(-(m.base + (r.size if r else 0)) // 1024) * 1024, m.end] for m, r in
                 zip(theirs, mine + [None] * len(theirs))]
        for r in mine[len(theirs):]:     # from the top down, so the main region can grow
            tail = next((t for t in tails if (t[1] - r.size) // 1024 * 1024 >= t[0]), None)
            if tail is not None:
                tail[1] = (tail[1] - r.size) // 1024 * 1024
                regions.append(Region(r.name, kind, tail[1], r.size))
    order = [r.name for r in target.regions]
    regions.sort(key=lambda r: order.index(r.name))
    return dataclasses.replace(target.with_regions(regions), qemu_machine=machine.qemu_machine,
                               qemu_cpu=machine.qemu_cpu)


HARNESS_RAM_SLACK = 512   # harness statics (semihosting, newlib) and section alignment padding


def harness_layout(target, graph: Graph, flash_overhead: int | None = None):
    """The memory layout (plan/regions.py) of a harness build on the emulated `target`: the main
    RAM bank also holds the harness's stack (and its guard band), heap and I/O buffers; the main
    flash keeps `flash_overhead` bytes for code (default: plan/regions.code_allowance)."""
    io = sum(-(-graph.tensors[n].nbytes // 16) * 16 for n in (*graph.inputs, *graph.outputs))
    return layout_for(target, ram_overhead=ram_reservation(target) + 128 + io + HARNESS_RAM_SLACK,
                      flash_overhead=flash_overhead, ops=len(graph.ops))


CODE_MARGIN = 512     # bytes kept over the measured code when the flash is re-divided


def measured_layout(graph: Graph, target, opt: str = "-O2"):
    """When the harness layout leaves a DSP weight layout out for flash (its code allowance,
    code_allowance, is a guess made before anything is built): the layout with the code measured
    instead, from that build (its flash use minus the model's constant arrays, + CODE_MARGIN),
    so the flash the code does not take holds layouts. None when nothing was left out, the
    build does not link, or the measured code is not smaller than the allowance."""
    layout = harness_layout(target, graph)
    if target.kernel_variant == "portable":
        return None
    low = lower(graph, PREFIX, layout=layout, variant=target.kernel_variant, core=target.core)
    if not low.plain_layouts:
        return None
    try:
        elf, _ = _build_qemu(graph, target, opt, layout, False)
    except ExecutionError:
        return None
    arrays = constant_arrays(low.graph, low.calls)
    where = place_weights(layout, arrays)
    main = target.code_region.name
    consts = sum(size for key, size, _ in arrays if where[key] == layout.main_flash)
    code = qemu.elf_sizes(elf, target).regions[main] - consts + CODE_MARGIN
    return harness_layout(target, graph, code) if code < code_allowance(len(graph.ops)) \
        else None


def build_qemu(graph: Graph, target, opt: str = "-O2", layout=None, profile: bool = False):
    """Cross-compile model + runtime + harness for the target (a board on its core's QEMU
    machine, see `emulation_target`); returns (elf, emulated target). Activations and weights
    are spread over the target's regions by `layout` (default: `qemu_layout`). `profile`:
    the profile build, with a marker call around every op (verify/profile.py)."""
    elf, target, _ = build_qemu_layout(graph, target, opt, layout, profile)
    return elf, target


def build_qemu_layout(graph: Graph, target, opt: str = "-O2", layout=None,
                      profile: bool = False):
    """build_qemu, and the layout it used: by default the harness layout with its code
    allowance measured when that lets more DSP layouts in (`measured_layout`) and the build
    still links, else `harness_layout`."""
    target = emulation_target(target)
    if layout is None:
        tuned = measured_layout(graph, target, opt)
        if tuned is not None:
            try:
                return (*_build_qemu(graph, target, opt, tuned, profile), tuned)
            except ExecutionError:
                pass
        layout = harness_layout(target, graph)
    return (*_build_qemu(graph, target, opt, layout, profile), layout)


def _build_qemu(graph: Graph, target, opt: str, layout, profile: bool):
    files = emit_c(graph, PREFIX, target.name, extra={"harness/qemu_glue.c.j2": "glue.c"},
                   layout=layout, variant=target.kernel_variant, core=target.core,
                   profile=profile)
    used = {m for text in files.values()          # file by file: no copy of megabytes
            for m in re.findall(r'"\.fitml\.(\w+)"', text, re.I)}   # section names
    missing = sorted(used - {r.name for r in target.regions})
    if missing:
        raise ExecutionError(f"QEMU machine {target.qemu_machine} models no memory for "
                             f"region(s) {', '.join(missing)} of {target.name}")
    io = [t.nbytes for t in map(graph.tensors.get, graph.inputs)]
    oo = [t.nbytes for t in map(graph.tensors.get, graph.outputs)]
    key = _digest(files, "qemu", target.name, opt, repr(target), repr(io), repr(oo),
                  *(p.read_text() for p in sorted(resource_dir("templates").rglob("*.j2"))),
                  *(["profile"] if profile else []))
    out, done = _materialize(files, key)
    elf = out / "model.elf"
    if done:
        return elf, target
    qemu.render_main(out, io, oo, entry="fitml_model_entry", profile=profile)
    include, sources = runtime_files(variant_for(target), files)
    srcs = [*_model_sources(out), out / "glue.c", out / "main.c", *sources]
    try:
        qemu.build_elf(srcs, [include, out], target, out, opt=opt,
                       cflags=["-std=c99", "-pedantic"], name="model")
    except qemu.BuildError as exc:
        raise ExecutionError(str(exc).splitlines()[0] + f"\n{exc}") from None
    (out / "DONE").write_text("ok\n")
    return elf, target


def scheduled_ops(graph: Graph, target, layout) -> list[tuple[str, str, int]]:
    """(output, kind, MACs) of every op of the harness build's schedule on the emulated
    `target` with `layout`, in the order the generated code runs them (what a profile's
    markers delimit)."""
    low = lower(graph, PREFIX, layout=layout, variant=target.kernel_variant, core=target.core)
    return [(op.outputs[0], op.kind, int(registry.get(op.kind).macs(Node.of(low.graph, op))))
            for op in low.graph.ops]


@executor("qemu")
def run_qemu(graph: Graph, inputs, target=None, timeout: float = 300.0, profile: bool = False,
             **_) -> RunResult:
    """Run on the target's QEMU machine; stats: instructions, stack and ELF sizes, and with
    `profile` the per-op Profile of a profile build (stats["profile"])."""
    args = check_inputs(graph, inputs)
    elf, tgt, layout = build_qemu_layout(graph, target or "cortex-m4", profile=profile)
    result = qemu.run_elf(elf, tgt, [np.ascontiguousarray(a).tobytes() for a in args],
                          len(graph.outputs), timeout=timeout, profile=profile)
    if result.exit_code != 0:
        why = describe_status(result.status, (elf.parent / f"{PREFIX}.c").read_text()) \
            if result.exit_code == qemu.EXIT_MODEL and result.status else result.fault()
        raise ExecutionError(f"QEMU run on {tgt.name} failed (exit {result.exit_code}): "
                             f"{why or result.stdout[-2000:]}")
    sizes = qemu.elf_sizes(elf, tgt)
    stats = {"target": tgt.name, "instructions": result.instructions,
             "stack_bytes": result.stack_bytes, "text": sizes.text, "rodata": sizes.rodata,
             "data": sizes.data, "bss": sizes.bss}
    if profile:
        try:
            ops, harness = spans(result.marks or [], scheduled_ops(graph, tgt, layout))
        except ValueError as exc:
            raise ExecutionError(str(exc)) from None
        clock = load_target(target or "cortex-m4").clock_hz
        stats["profile"] = Profile(tgt.name, tgt.core, clock, ops, harness)
    return RunResult(_outputs(graph, result.outputs), stats)
