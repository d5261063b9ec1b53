"""Measure what a prediction would get wrong: code and static data from the built ELF, stack
from one QEMU run.

Measurement method (docs/report-schema.md explains it at length):
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
import json
import os
import re
import subprocess
from pathlib import Path

from ..errors import FitmlError, ToolchainMissing
from ..ir import Graph
from ..targets import Target, load_target
from ..verify import qemu
from ..verify.cbuild import ExecutionError
from ..verify.elf import tool
from ..verify.harness_only import harness_elf
from ..verify.ladder import random_inputs
from ..verify.qemu_build import build_qemu, emulation_target
from .fit_report import Measurement

METHOD = ("ELF symbol sizes (arm-none-eabi-nm -S) minus a harness-only ELF's symbols; "
          "stack high-water mark of one QEMU run")



def measure_elf(graph: Graph, tgt: Target, model_symbols: set[str], layout=None
                ) -> Measurement:
    """Build the model for the target (with the report's `layout`), measure code/static data
    by symbols and the stack by one QEMU run; anything that cannot be measured is None with
    the reason in `note`."""
    link = "ok"
    try:
        try:
            elf, emu = build_qemu(graph, tgt, layout=layout, measuring=True)
        except ExecutionError as exc:
            first = str(exc).splitlines()[0]
            if "overflowed" not in first and "models no memory" not in first:
                return Measurement(method=METHOD, note=first)
            limit = emulation_limit(first, tgt)
            link = first if limit is None else None   # QEMU's limit is not the board's
            try:                   # measure anyway: the machine's memory (and, for regions it
                elf, emu = build_qemu(   # lacks, the activations and weights it can hold)
                    graph, roomy(tgt), layout=layout if "overflowed" in first else None,
                    measuring=True)
            except ExecutionError:
                if limit is None:
                    raise
                return Measurement(method=METHOD, note=limit)
        harness = harness_elf(graph, emu)
        code, static, data = symbol_sizes(elf, harness, emu, model_symbols | {"arena"})
        base = Measurement(code, static, data, method=METHOD, link=link, elf=str(elf),
                           harness_elf=str(harness))
        blobs = [a.tobytes() for a in random_inputs(graph, 1, seed=0)[0]]
        # the run is deterministic: a cached build keeps its measured run beside its ELF
        key = hashlib.sha256(repr((emu, [hashlib.sha256(b).hexdigest() for b in blobs]))
                             .encode()).hexdigest()[:24]
        memo = Path(elf).parent / f"measured-run-{key}.json"
        try:
            run = qemu.QemuResult(**{"outputs": [], **json.loads(memo.read_text())})
        except (OSError, ValueError, TypeError):
            run = qemu.run_elf(elf, emu, blobs, len(graph.outputs), timeout=600)
            if run.exit_code == 0 and run.stack_bytes is not None:
                tmp = memo.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps({k: getattr(run, k) for k in (
                    "exit_code", "instructions", "stack_bytes", "stdout", "stderr", "status",
                    "stack_size")}))
                os.replace(tmp, memo)
    except ToolchainMissing as exc:
        return Measurement(method=METHOD, note=str(exc).splitlines()[0])
    except (FitmlError, subprocess.CalledProcessError) as exc:
        return Measurement(method=METHOD, note=_first_line(exc), link=link)
    if run.exit_code != 0 or run.stack_bytes is None:
        why = run.fault() or f"exit {run.exit_code}"
        return dataclasses.replace(base, note=f"QEMU run failed ({why})")
    return dataclasses.replace(base, stack_bytes=run.stack_bytes,
                               instructions=run.instructions)


def emulation_limit(link_line: str, tgt: Target) -> str | None:
    """Why a board-sized link that overflowed says nothing about the board, or None: every
    region it overflowed is one QEMU's machine models smaller than the board has, by at least
    the overflow (a 5.5 MB MRAM on a machine with 512 KB there)."""
    overflows = re.findall(r"region '(\w+)' overflowed by (\d+) bytes", link_line)
    emu = {r.name: r for r in emulation_target(tgt).regions}
    ld = {r.name: r.name.upper() for r in tgt.regions}
    ld.update({tgt.code_region.name: "FLASH", tgt.ram_region.name: "RAM"})
    by_ld = {v: k for k, v in ld.items()}
    why = []
    for name, over in overflows:
        board = next((r for r in tgt.regions if r.name == by_ld.get(name)), None)
        small = emu.get(board.name) if board is not None else None
        if small is None or board.size - small.size < int(over):
            return None
        why.append(f"{board.name} {small.size:,} B of its {board.size:,} B")
    if not why:
        return None
    return (f"QEMU's {emulation_target(tgt).qemu_machine} models "
            f"{'; '.join(why)} (the board holds the model there)")


def _first_line(exc: Exception) -> str:
    """Why a measuring step failed, in one line: a build's first error line, or the failing
    tool and the first line it wrote to stderr."""
    if isinstance(exc, subprocess.CalledProcessError):
        tool = Path(str(exc.cmd[0])).name if exc.cmd else "a tool"
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) \
            else exc.stderr or ""
        lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
        return f"{tool} failed (exit {exc.returncode})" + (f": {lines[0]}" if lines else "")
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def roomy(tgt: Target) -> Target:
    """The emulation of `tgt` with every region grown to the end of the QEMU machine region
    it lies in (or to the next emulated region carved out of the same one)."""
    emu = emulation_target(tgt)
    machine = load_target(tgt.core).regions
    starts = sorted(r.base for r in emu.regions)

    def end(r):
        m = next((m for m in machine if m.base <= r.base < m.end), None)
        if m is None:
            return r.end
        return min([m.end] + [b for b in starts if r.base < b < m.end])
    return emu.with_regions([dataclasses.replace(r, size=end(r) - r.base) for r in emu.regions])


def nm_sizes(elf) -> list[tuple[str, str, int, int]]:
    """(name, nm type letter, address, size) of every symbol that has a size; remembered
    beside the ELF (a cached build's ELF never changes: a warm check runs no nm)."""
    memo = Path(f"{elf}.nm.json")
    try:
        if memo.stat().st_mtime_ns >= Path(elf).stat().st_mtime_ns:
            return [tuple(row) for row in json.loads(memo.read_text())]
    except (OSError, ValueError):
        pass
    out = subprocess.run([tool("arm-none-eabi-nm"), "-S", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    rows = [ln.split() for ln in out.splitlines()]
    sizes = [(p[3], p[2], int(p[0], 16), int(p[1], 16)) for p in rows if len(p) == 4]
    try:
        tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(sizes))
        os.replace(tmp, memo)
    except OSError:
        pass                    # a read-only cache: measure again next time
    return sizes


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
