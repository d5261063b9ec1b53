"""Cortex-M ELF files: `build_elf` links sources with the rendered harness startup code and
linker script using arm-none-eabi-gcc, newlib-nano and rdimon (sources compiled in parallel,
the runtime's and big weight sources once into the build cache: verify/objects.py);
`elf_symbols` and `elf_sizes` read a built ELF back."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import BuildError, ToolchainMissing
from ..targets import Target, TargetError, load_target
from ..targets.fields import check_cflags
from .harness import render_linker_script, render_startup
from .objects import compile_objects

_LINK_FLAGS = ["--specs=nano.specs", "--specs=rdimon.specs", "-nostartfiles",
               "-Wl,--gc-sections", "-ffunction-sections", "-fdata-sections",
               "-lm"]  # float kernels (softmax, logistic, tanh) call expf/tanhf


HARNESS_CFLAGS = ("-std=c99", "-pedantic")   # the QEMU harness builds (model, harness alone)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolchainMissing(f"{name} not found: run ./setup.sh to install the Cortex-M "
                               "toolchain (gcc-arm-none-eabi, newlib) and qemu-system-arm")
    return path


def build_elf(sources: Sequence[Path], include_dirs: Sequence[Path], target: Target | str,
              out_dir: Path, defines: Mapping[str, object] | None = None, *,
              stack_size: int | None = None, heap_size: int | None = None, opt: str = "-O2",
              cflags: Sequence[str] = (), werror: bool = True, name: str = "prog") -> Path:
    """Compile and link `sources` plus the rendered startup.c and link.ld into out_dir/name.elf.
    The sources must define `main` (usually a `render_main` file). Raises BuildError whose
    first line names the overflowing region when the program does not fit."""
    target = load_target(target)
    gcc = tool("arm-none-eabi-gcc")
    out_dir = Path(out_dir)
    startup = render_startup(out_dir, target)
    script = render_linker_script(out_dir, target, stack_size, heap_size)
    elf = out_dir / f"{name}.elf"
    flags = compile_flags(target, opt, cflags, werror, defines)
    try:
        objects = compile_objects([gcc], flags, [*sources, startup], include_dirs, out_dir)
    except BuildError as exc:
        raise BuildError(_build_failure(str(exc)) + "\n" + str(exc)) from None
    cmd = [gcc, *_checked_cflags(target), opt, *map(str, objects), f"-T{script}", *_LINK_FLAGS,
           f"-Wl,-Map={out_dir / (name + '.map')}", "-o", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(_build_failure(proc.stderr) + "\n" + proc.stderr)
    return elf


def compile_flags(target: Target, opt: str = "-O2", cflags: Sequence[str] = (),
                  werror: bool = True, defines: Mapping[str, object] | None = None) -> list[str]:
    """What every source of a `build_elf` program is compiled with (before -I and -c)."""
    flags = [*_checked_cflags(target), opt, "-Wall", "-Wextra",
             *(["-Werror"] if werror else []), *cflags]
    for key, value in (defines or {}).items():
        flags.append(f"-D{key}" if value is None else f"-D{key}={value}")
    return flags + [f for f in _LINK_FLAGS if f.startswith(("--specs=", "-f"))]


def _checked_cflags(target: Target) -> tuple[str, ...]:
    """The target's cflags, checked again here: a Target built in code skips the file check."""
    try:
        return check_cflags(target.cflags)
    except ValueError as exc:
        raise TargetError(f"target {target.name!r}: cflags: {exc}") from None


def _build_failure(stderr: str) -> str:
    overflow = re.findall(r"region .(\w+). overflowed by (\d+) bytes", stderr)
    if overflow:
        return "link failed: " + "; ".join(f"region '{r}' overflowed by {n} bytes"
                                           for r, n in overflow)
    errors = [ln for ln in stderr.splitlines() if "error" in ln.lower()]
    return "build failed: " + (errors[0] if errors else "arm-none-eabi-gcc returned an error")


def elf_symbols(elf: Path) -> dict[str, int]:
    """Global and local symbol addresses (Thumb functions have bit 0 clear here)."""
    out = subprocess.run([tool("arm-none-eabi-nm"), str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {parts[2]: int(parts[0], 16) for parts in (ln.split() for ln in out.splitlines())
            if len(parts) == 3}


@dataclass
class ElfSizes:
    """Bytes of every allocated section, and used per target region (by address; .data counts
    in its RAM region and, as its load image, in the code region)."""
    sections: dict[str, int]
    regions: dict[str, int]

    text = property(lambda self: self.sections.get(".text", 0))
    rodata = property(lambda self: self.sections.get(".rodata", 0))
    data = property(lambda self: self.sections.get(".data", 0))
    bss = property(lambda self: self.sections.get(".bss", 0))


def elf_sizes(elf: Path, target: Target | str) -> ElfSizes:
    target = load_target(target)
    out = subprocess.run([tool("arm-none-eabi-objdump"), "-h", str(elf)], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    sections, regions = {}, {r.name: 0 for r in target.regions}
    for head, flags in zip(out, out[1:]):
        parts = head.split()
        if len(parts) < 7 or not parts[0].isdigit() or "ALLOC" not in flags:
            continue
        name, size, vma, lma = parts[1], int(parts[2], 16), int(parts[3], 16), int(parts[4], 16)
        sections[name] = size
        for addr in {vma, lma} if "LOAD" in flags else {vma}:
            for r in target.regions:
                if r.base <= addr < r.end:
                    regions[r.name] += size
    return ElfSizes(sections, regions)
