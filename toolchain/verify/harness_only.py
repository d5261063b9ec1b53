"""The QEMU harness alone (startup, main, I/O buffers, semihosting; a stub model entry): what
the harness itself takes, so a board-sized build charges the board only what the application
takes (`link_target`), and the fit report's measurement tells model symbols from the
harness's (report/measure.py)."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ..ir import Graph
from ..resources import resource_dir
from ..targets import Target, TargetError, load_target
from .cache import cache_root
from .elf import HARNESS_CFLAGS, build_elf, elf_sizes
from .harness import render_main

_STUB = ("int fitml_model_entry(const void *const in[], void *const out[]);\n"
         "int fitml_model_entry(const void *const in[], void *const out[])\n"
         "{\n    (void)in;\n    (void)out;\n    return 0;\n}\n")


def harness_elf(graph: Graph, emu: Target) -> Path:
    """The QEMU harness alone (a stub model entry), built once per target and I/O sizes."""
    io = [graph.tensors[n].nbytes for n in graph.inputs]
    oo = [graph.tensors[n].nbytes for n in graph.outputs]
    h = hashlib.sha256(repr((emu, io, oo)).encode())
    for p in sorted((resource_dir("templates") / "harness").glob("*.j2")):
        h.update(p.read_bytes())
    out = cache_root() / f"harness-{h.hexdigest()[:24]}"
    if (out / "DONE").exists():
        return out / "harness.elf"
    tmp = Path(tempfile.mkdtemp(prefix=".harness-", dir=cache_root()))
    try:
        render_main(tmp, io, oo, entry="fitml_model_entry")
        (tmp / "stub.c").write_text(_STUB)
        build_elf([tmp / "main.c", tmp / "stub.c"], [], emu, tmp,
                       cflags=HARNESS_CFLAGS, name="harness")
        (tmp / "DONE").write_text("ok\n")
        try:
            os.rename(tmp, out)
        except OSError:                # another process finished the same build first
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out / "harness.elf"


def harness_flash(graph: Graph, emu: Target) -> int:
    """Bytes of the main flash region the harness alone takes (its code, vectors, constants
    and the load image of its data)."""
    return elf_sizes(harness_elf(graph, emu), emu).regions[emu.code_region.name]


HARNESS_RAM_SLACK = 512   # harness statics (semihosting, newlib) and section alignment padding
STACK_GUARD = 128         # the harness's stack guard band (link.ld.j2)


def harness_ram(graph: Graph) -> int:
    """RAM bytes the QEMU harness needs besides what the application needs (its I/O buffers,
    the stack guard band, its own statics): the board-sized build links them in RAM added to
    the board's main RAM (`link_target`), so the board is charged what `check` charges."""
    io = sum(-(-graph.tensors[n].nbytes // 16) * 16 for n in (*graph.inputs, *graph.outputs))
    return STACK_GUARD + io + HARNESS_RAM_SLACK


def link_target(target, graph: Graph):
    """The emulated `target` as the harness is linked: its main RAM region grown by
    `harness_ram`, its main flash region by what the harness alone takes there, each as far as
    its QEMU machine region and the next emulated region allow: ld then enforces the board's
    sizes on the application's own bytes."""
    try:
        machine = load_target(target.core).regions
    except TargetError:
        return target
    grow = {target.ram_region.name: harness_ram(graph),
            target.code_region.name: harness_flash(graph, target)}
    regions = []
    for r in target.regions:
        m = next((m for m in machine if m.base <= r.base < m.end), None)
        if r.name in grow and m is not None:
            end = min([m.end] + [o.base for o in target.regions if r.base < o.base < m.end])
            r = dataclasses.replace(r, size=max(r.size, min(r.size + grow[r.name],
                                                            end - r.base)))
        regions.append(r)
    return target.with_regions(regions)
