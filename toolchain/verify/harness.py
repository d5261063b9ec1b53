"""The bare-metal harness sources for a target, rendered from `templates/harness/`: main.c (reads
input blobs from host files over semihosting and calls the model between two marker functions),
startup.c and link.ld; and the exit codes and marker names the harness uses."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import jinja2

from ..targets import Target
from ..util.templating import template_environment

# Harness exit codes (QEMU exits with the semihosting exit code & 0xff).
EXIT_IO = 240      # an input/output blob file could not be read or written (or has a bad size)
EXIT_MODEL = 241   # the model entry point returned a non-zero status
EXIT_STACK = 242   # the stack overflowed into its guard band (seen after the run, no MPU)
EXIT_FAULT = 250   # a HardFault (or other unexpected exception); the report is on stdout
MARK_BEGIN, MARK_END = "fitml_mark_begin", "fitml_mark_end"
MARK_OP = "fitml_prof_op"   # profile builds: called before every op and after the last one


@functools.cache
def harness_env(prebuilt: bool = False) -> jinja2.Environment:
    """The harness templates' environment (no block trimming), one per process, its compiled
    templates cached apart from the C backend's (`prebuilt`: setup's copy)."""
    return template_environment("templates-harness", prebuilt)


def _render(name: str, out: Path, **params) -> Path:
    env = harness_env()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(env.get_template(f"harness/{name}.j2").render(**params))
    return out


def render_main(out_dir: Path, input_sizes: Sequence[int], output_sizes: Sequence[int],
                entry: str = "fitml_model_run", includes: Sequence[str] = (),
                call: str | None = None, profile: bool = False) -> Path:
    """Write main.c. By default it calls `int entry(const void *const in[], void *const out[])`
    with harness-owned buffers; `call` replaces that with a C expression (declared in
    `includes`) using `fitml_inputs`/`fitml_outputs` or anything else, giving an int status.
    `profile` adds the per-op marker function a profile build's model calls (MARK_OP)."""
    if max(len(input_sizes), len(output_sizes)) > 100:
        raise ValueError("the harness handles at most 100 inputs and 100 outputs")
    return _render("main.c", Path(out_dir) / "main.c", inputs=[int(s) for s in input_sizes],
                   outputs=[int(s) for s in output_sizes], entry=entry, includes=list(includes),
                   call=call, exit_io=EXIT_IO, exit_model=EXIT_MODEL, exit_stack=EXIT_STACK,
                   profile=profile)


def render_startup(out_dir: Path, target: Target) -> Path:
    main = (target.code_region.name, target.ram_region.name)
    zero = [r.name for r in target.regions if r.kind == "ram" and r.name not in main]
    return _render("startup.c", Path(out_dir) / "startup.c", target=target.name,
                   exit_fault=EXIT_FAULT, zero_regions=zero)


def render_linker_script(out_dir: Path, target: Target, stack_size: int | None = None,
                         heap_size: int | None = None) -> Path:
    """Write link.ld: the main flash/ram regions become FLASH/RAM, others get their own
    output section `.<name>` filled from input sections `.fitml.<name>`."""
    main = {target.code_region.name: "FLASH", target.ram_region.name: "RAM"}
    regions, extra = [], []
    for r in target.regions:
        ld_name = main.get(r.name) or r.name.upper()
        if r.name not in main and ld_name in ("FLASH", "RAM"):
            ld_name = f"X_{ld_name}"
        item = dict(name=r.name, kind=r.kind, base=r.base, size=r.size, ld_name=ld_name)
        regions.append(item)
        if r.name not in main:
            extra.append(item)
    return _render("link.ld", Path(out_dir) / "link.ld", target=target.name, regions=regions,
                   extra_regions=extra, stack_size=target.stack_size if stack_size is None
                   else stack_size, heap_size=target.heap_size if heap_size is None else heap_size)
