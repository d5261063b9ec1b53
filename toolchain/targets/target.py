"""Targets: Cortex-M cores and boards described by TOML files (memory, compiler flags, QEMU).

A core file (`targets/cores/<name>.toml`) says how to compile for the core, which QEMU machine
emulates it and the memory regions that machine models. A board file (`targets/boards/`, or any
path a user passes) names its core with `core = "cortex-m4"` and brings its own regions; what it
does not say (flags, features, QEMU machine, stack size) comes from the core. Of each kind
("flash", "ram") the first region listed is the main one: code and constants go to the main
flash region, .data/.bss/heap/stack to the main RAM region. The files are read by loader.py.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .fields import SizeRangeError, size_bytes

KINDS = ("flash", "ram")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")   # a region's name


class TargetError(UsageError):
    """A target that cannot be found or whose file is malformed."""


@dataclass(frozen=True)
class Region:
    name: str
    kind: str  # "flash" or "ram"
    base: int
    size: int

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # "core" or "board"
    core: str
    cflags: tuple[str, ...]
    qemu_machine: str
    regions: tuple[Region, ...]
    qemu_cpu: str | None = None
    features: tuple[str, ...] = ()
    stack_size: int = 16384
    heap_size: int = 0
    clock_hz: int | None = None
    description: str = ""
    default_format: str = "c"   # what `fitml compile` emits: "c", or "tflite" for mobile targets
    path: Path | None = None

    @property
    def kernel_variant(self) -> str:
        """The C runtime variant this core links: MVE (Helium), DSP (SMLAD) or portable."""
        return "mve" if "mve" in self.features else "dsp" if "dsp" in self.features \
            else "portable"

    def main_region(self, kind: str) -> Region:
        for r in self.regions:
            if r.kind == kind:
                return r
        raise TargetError(f"target {self.name!r} has no {kind} region")

    @property
    def code_region(self) -> Region:
        return self.main_region("flash")

    @property
    def ram_region(self) -> Region:
        return self.main_region("ram")

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise TargetError(f"target {self.name!r} has no region {name!r}; "
                          f"it has {', '.join(r.name for r in self.regions)}")

    def qemu_args(self) -> list[str]:
        """`-M` (and `-cpu` where the machine's own CPU is not the one wanted)."""
        return ["-M", self.qemu_machine] + (["-cpu", self.qemu_cpu] if self.qemu_cpu else [])

    def with_regions(self, regions) -> "Target":
        return dataclasses.replace(self, regions=check_regions(self.name, tuple(regions)))


def parse_size(value) -> int:
    """Bytes from an int or a string such as "256K", "1M", "512KiB", "0x4000" (at most the
    4 GiB a 32-bit core addresses)."""
    try:
        return size_bytes(value)
    except SizeRangeError as e:
        raise TargetError(f"size {e}") from None
    except ValueError as e:
        raise TargetError(str(e)) from None


def check_regions(where: str, regions: tuple[Region, ...]) -> tuple[Region, ...]:
    """The regions, checked: unique names, a flash and a RAM region, no overlaps."""
    names = [r.name for r in regions]
    if len(set(names)) != len(names):
        raise TargetError(f"{where}: duplicate region names in {names}")
    for kind in KINDS:
        if not any(r.kind == kind for r in regions):
            raise TargetError(f"{where}: needs at least one {kind} region")
    ordered = sorted(regions, key=lambda r: r.base)
    for a, b in zip(ordered, ordered[1:]):
        if b.base < a.end:
            raise TargetError(f"{where}: regions {a.name!r} and {b.name!r} overlap")
    return regions
