"""What both executors of generated C share: the runtime sources a model calls, and the build
cache keyed by a hash of every generated source, the runtime and the flags, so each model is
compiled once per machine however many inputs run through it."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from ..backends import cruntime
from ..errors import FitmlError
from ..ir import Graph
from ..ops.interpreter import NP_DTYPES
from ..resources import resource_dir
from .cache import cache_root

PREFIX = "model"


class ExecutionError(FitmlError):
    """Generated code failed to build or run."""


def runtime_files(variant: str = "portable", files: dict[str, str] | None = None
                  ) -> tuple[Path, list[Path]]:
    """The runtime's include dir and the C sources of the given variant: one per kernel, only
    the kernels the generated `files` call when given."""
    kernels = None if files is None else used_kernels(files)
    return cruntime.include_dir(), cruntime.runtime_sources(kernels, variant=variant)


def used_kernels(files: dict[str, str | bytes]) -> list[str]:
    """Runtime kernels the generated sources call (read from the sources themselves, so the
    list always matches what was emitted, whichever memory plan chose the kernels)."""
    called = set()
    for name, text in files.items():
        if isinstance(text, str) and not name.endswith(("_weights.c", "_weights.s")):
            called.update(_CALL.findall(text))   # (weights: megabytes of constants, no calls)
    return [k for k in cruntime.kernel_files() if k in called]


_CALL = re.compile(r"\b(fitml_\w+)\s*\(")


def variant_for(target) -> str:
    """Which kernel variant a core runs: MVE (Helium), DSP (SMLAD) or portable C."""
    return target.kernel_variant


def digest(files: dict[str, str | bytes], *extra: str) -> str:
    """The cache key of a build: the generated files, the runtime sources and `extra`."""
    h = hashlib.sha256()
    include, sources = runtime_files()
    for name in sorted(files):
        data = files[name]
        h.update(name.encode() + b"\0" + (data if isinstance(data, bytes) else data.encode())
                 + b"\0")
    src = resource_dir("runtime_c") / "src"
    for path in sorted(include.rglob("*.h")) + sorted(src.rglob("*.[ch]")):
        h.update(str(path.name).encode() + path.read_bytes())
    for e in extra:
        h.update(e.encode() + b"\0")
    return h.hexdigest()[:24]


def materialize(files: dict[str, str | bytes], key: str) -> tuple[Path, bool]:
    """The cache dir for `key`, with the files written; True when a finished build is there."""
    out = cache_root() / key
    if (out / "DONE").exists():
        return out, True
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if isinstance(data, bytes):
            (out / name).write_bytes(data)
        else:
            (out / name).write_text(data)
    return out, False


def model_sources(out: Path) -> list[Path]:
    """model.c and the weights: their C text, or the measuring build's assembly form."""
    asm = out / f"{PREFIX}_weights.s"
    return [out / f"{PREFIX}.c", asm if asm.is_file() else out / f"{PREFIX}_weights.c"]


def read_outputs(graph: Graph, blobs: Sequence[bytes]) -> list[np.ndarray]:
    """The graph's output arrays from the raw blobs a run wrote."""
    arrays = []
    for name, blob in zip(graph.outputs, blobs):
        t = graph.tensors[name]
        arrays.append(np.frombuffer(blob, NP_DTYPES[t.dtype]).reshape(t.shape).copy())
    return arrays
