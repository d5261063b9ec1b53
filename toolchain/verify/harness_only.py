"""The QEMU harness alone (startup, main, I/O buffers, semihosting; a stub model entry): what
the harness itself takes, so a board-sized build charges the board only what the application
takes (`cexec.link_target`), and the fit report's measurement tells model symbols from the
harness's (report/measure.py)."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ..ir import Graph
from ..resources import resource_dir
from ..targets import Target
from . import qemu
from .cache import cache_root

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


def harness_flash(graph: Graph, emu: Target) -> int:
    """Bytes of the main flash region the harness alone takes (its code, vectors, constants
    and the load image of its data)."""
    return qemu.elf_sizes(harness_elf(graph, emu), emu).regions[emu.code_region.name]
