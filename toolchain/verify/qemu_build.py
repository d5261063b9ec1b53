"""The harness build of a model for QEMU: a board's regions moved onto its core's QEMU machine
(`emulation_target`), the memory layout of that build (`harness_layout`, `measured_layout`),
the cached cross-compile (`build_qemu`) and the op schedule a profile's markers delimit."""
from __future__ import annotations

import dataclasses
import re

from ..backends.c import emit_c, lower
from ..backends.clayouts import constant_arrays
from ..errors import BuildError
from ..ir import Graph
from ..ops import registry
from ..ops.registry import Node
from ..plan.regions import code_allowance, layout_for, place_weights
from ..resources import resource_dir
from ..targets import KINDS, Region, TargetError, load_target
from .cbuild import (PREFIX, ExecutionError, digest, materialize, model_sources, runtime_files,
                     variant_for)
from .elf import HARNESS_CFLAGS, build_elf, elf_sizes
from .harness import render_main
from .harness_only import link_target


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


def harness_layout(target, graph: Graph, flash_overhead: int | None = None):
    """The memory layout (plan/regions.py) of a harness build on the emulated `target`: the
    application's (stack and heap as the target declares them; the main flash keeps
    `flash_overhead` bytes for code, default plan/regions.code_allowance). The harness's own RAM
    and flash are linked on top of the board's (harness_only.link_target)."""
    return layout_for(target, flash_overhead=flash_overhead, ops=len(graph.ops))


CODE_MARGIN = 512     # bytes kept over the measured code when the flash is re-divided


def measured_layout(graph: Graph, target, opt: str = "-O2", measuring: bool = False):
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
        elf, _ = _build_qemu(graph, target, opt, layout, False, measuring=measuring)
    except ExecutionError:
        return None
    arrays = constant_arrays(low.graph, low.calls)
    where = place_weights(layout, arrays)
    main = target.code_region.name
    consts = sum(size for key, size, _ in arrays if where[key] == layout.main_flash)
    code = elf_sizes(elf, target).regions[main] - consts + CODE_MARGIN
    return harness_layout(target, graph, code) if code < code_allowance(len(graph.ops)) \
        else None


def build_qemu(graph: Graph, target, opt: str = "-O2", layout=None, profile: bool = False,
               measuring: bool = False):
    """Cross-compile model + runtime + harness for the target (a board on its core's QEMU
    machine, see `emulation_target`); returns (elf, emulated target). Activations and weights
    are spread over the target's regions by `layout` (default: `qemu_layout`). `profile`:
    the profile build, with a marker call around every op (verify/profile.py). `measuring`:
    a build only measured (`fitml check`), its weights assembled from their bytes
    (backends/cweights_asm.py: same symbols and layout, not the C text users compile)."""
    elf, target, _ = build_qemu_layout(graph, target, opt, layout, profile, measuring=measuring)
    return elf, target


def build_qemu_layout(graph: Graph, target, opt: str = "-O2", layout=None,
                      profile: bool = False, steps: int = 1, resets=(),
                      measuring: bool = False):
    """build_qemu, and the layout it used: by default the harness layout with its code
    allowance measured when that lets more DSP layouts in (`measured_layout`) and the build
    still links, else `harness_layout`."""
    target = emulation_target(target)
    if layout is None:
        tuned = measured_layout(graph, target, opt, measuring)
        if tuned is not None:
            try:
                return (*_build_qemu(graph, target, opt, tuned, profile, steps, resets,
                                     measuring), tuned)
            except ExecutionError:
                pass
        layout = harness_layout(target, graph)
    return (*_build_qemu(graph, target, opt, layout, profile, steps, resets, measuring),
            layout)


def _build_qemu(graph: Graph, target, opt: str, layout, profile: bool, steps: int = 1,
                resets=(), measuring: bool = False):
    """The cached harness build; `steps` invokes per run (blobs hold one input / output per
    invoke), the state reset before those in `resets`."""
    files = emit_c(graph, PREFIX, target.name, extra={"harness/qemu_glue.c.j2": "glue.c"},
                   layout=layout, variant=target.kernel_variant, core=target.core,
                   profile=profile, steps=steps, resets=resets,
                   weights_asm_opt=opt if measuring else None)
    used = {m for text in files.values() if isinstance(text, str)   # no copy of megabytes
            for m in re.findall(r'(?:"|section )\.fitml\.(\w+)', text, re.I)}  # sections
    missing = sorted(used - {r.name for r in target.regions})
    if missing:
        raise ExecutionError(f"QEMU machine {target.qemu_machine} models no memory for "
                             f"region(s) {', '.join(missing)} of {target.name}")
    io = [steps * t.nbytes for t in map(graph.tensors.get, graph.inputs)]
    oo = [steps * t.nbytes for t in map(graph.tensors.get, graph.outputs)]
    key = digest(files, "qemu", target.name, opt, repr(target), repr(io), repr(oo),
                  *(p.read_text() for p in sorted(resource_dir("templates").rglob("*.j2"))),
                  *(["profile"] if profile else []))
    out, done = materialize(files, key)
    elf = out / "model.elf"
    if done:
        return elf, target
    render_main(out, io, oo, entry="fitml_model_entry", profile=profile)
    include, sources = runtime_files(variant_for(target), files)
    srcs = [*model_sources(out), out / "glue.c", out / "main.c", *sources]
    try:
        build_elf(srcs, [include, out], link_target(target, graph), out, opt=opt,
                  cflags=HARNESS_CFLAGS, name="model")
    except BuildError as exc:
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
