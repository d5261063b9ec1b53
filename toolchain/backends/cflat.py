"""The runtime a C project ships: one flat `runtime_c/` with exactly the sources its models call.

`runtime_c/src/` holds one `.c` per kernel (the core's variant of it) and nothing else that ends
in `.c`, so an IDE that compiles every .c file of the folder (STM32CubeIDE, Keil, PlatformIO)
links exactly one definition of each kernel. A variant that builds on another file (a DSP kernel
including its portable twin, an LSTM compiling the int16 LOGISTIC under a private name) gets
that file beside it as `<stem>_<variant>.inc`, its `#include` rewritten; private headers keep
their names. `runtime_c/include/fitml/` holds the public headers.

`kernel_paths` also gives each source's place in the repository's `runtime_c/`, so the build
snippets work when FITML_RUNTIME_DIR points there instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from . import cruntime

_INCLUDE = re.compile(r'^([ \t]*#[ \t]*include[ \t]*")([^"]+)(")', re.M)
_MATH = re.compile(r'^[ \t]*#[ \t]*include[ \t]*<math\.h>', re.M)


@dataclass(frozen=True)
class KernelSource:
    """One kernel's source: its path in the flat copy and in the repository's runtime_c/."""
    kernel: str
    flat: str          # "src/fitml_conv_s8.c"
    repo: str          # "src/dsp/fitml_conv_s8.c"


def kernel_paths(kernels: Iterable[str], variant: str) -> list[KernelSource]:
    root = cruntime.runtime_dir()
    return [KernelSource(p.stem, f"src/{p.name}", p.relative_to(root).as_posix())
            for p in cruntime.runtime_sources(sorted(set(kernels)), variant=variant)]


def flat_runtime(kernels: Iterable[str], variant: str) -> dict[str, str]:
    """{path inside runtime_c/: text}: the public headers, each kernel's source and the files
    those include (rewritten to their flat names)."""
    root = cruntime.runtime_dir()
    files = {f"include/fitml/{h.name}": h.read_text()
             for h in sorted((root / "include" / "fitml").glob("*.h"))}
    sources = cruntime.runtime_sources(sorted(set(kernels)), variant=variant)
    names: dict[Path, str] = {p.resolve(): p.name for p in sources}
    todo = [p.resolve() for p in sources]
    while todo:
        path = todo.pop()
        files[f"src/{names[path]}"] = _rewrite(path, names, todo)
    return dict(sorted(files.items()))


def _rewrite(path: Path, names: dict[Path, str], todo: list[Path]) -> str:
    """The text of `path` with each local #include naming the flat copy of its file."""
    def flat(match: re.Match) -> str:
        name = match.group(2)
        if name.startswith("fitml/"):
            return match.group(0)          # a public header, found through -I include/
        dep = (path.parent / name).resolve()
        if not dep.is_file():
            raise FileNotFoundError(f"{path}: #include \"{name}\" not found")
        if dep not in names:
            names[dep] = _flat_name(dep, set(names.values()))
            todo.append(dep)
        return match.group(1) + names[dep] + match.group(3)
    return _INCLUDE.sub(flat, path.read_text())


def _flat_name(path: Path, taken: set[str]) -> str:
    """A .c included by another file becomes `<stem>_<its folder>.inc` (no IDE compiles it on
    its own); a header keeps its name unless another header took it."""
    if path.suffix == ".c":
        name = f"{path.stem}_{path.parent.name}.inc"
    else:
        name = path.name if path.name not in taken else \
            f"{path.stem}_{path.parent.name}{path.suffix}"
    if name in taken:
        raise ValueError(f"two runtime files flatten to {name}")
    return name


def needs_libm(files: dict[str, str]) -> bool:
    """Whether the flat sources include <math.h> (the float32 transcendental kernels)."""
    return any(_MATH.search(text) for name, text in files.items() if name.startswith("src/"))
