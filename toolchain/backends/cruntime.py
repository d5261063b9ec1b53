"""The fitml C runtime (runtime_c/): where its sources are, its struct ABI, and host builds.

`STRUCTS` (cstructs.py) mirrors the parameter structs of runtime_c/include/fitml/
(fitml_types.h, fitml_hybrid.h, fitml_int4.h, fitml_int16.h) field by field (a test compiles the
headers and compares every offset), so Python can fill them through ctypes and check the field
names an op's `lower_c` produces.
"""
from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np

from ..lowering.ccall import CArray, StateRef, TensorRef
from ..resources import resource_dir
from .cstructs import ALIASES, STRUCTS

VARIANTS = ("portable", "dsp", "mve")
C99_WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow",
                "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wdouble-promotion")

def runtime_dir() -> Path:
    return resource_dir("runtime_c")


def include_dir() -> Path:
    """The directory to pass as -I; sources include "fitml/fitml.h"."""
    return runtime_dir() / "include"


def kernel_files() -> dict[str, Path]:
    """Kernel name (file stem, e.g. "fitml_conv_s8") -> its portable source."""
    return {p.stem: p for p in sorted((runtime_dir() / "src" / "portable").glob("fitml_*.c"))}


def runtime_sources(kernels: Iterable[str] | None = None, variant: str = "portable") -> list[Path]:
    """The .c files to compile: every kernel, or only those named (one file per kernel).

    A `variant` ("dsp", "mve") takes src/<variant>/<kernel>.c where it exists, else the
    portable file, so a build links exactly one definition of each kernel.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown runtime variant {variant!r} (known: {', '.join(VARIANTS)})")
    files = kernel_files()
    names = sorted(files) if kernels is None else sorted(set(kernels))
    unknown = [k for k in names if k not in files]
    if unknown:
        raise ValueError(f"no runtime source for kernel(s) {', '.join(unknown)}")
    special = runtime_dir() / "src" / variant
    return [special / f"{k}.c" if (special / f"{k}.c").is_file() else files[k] for k in names]


def build_host_library(out_dir: str | Path, kernels: Iterable[str] | None = None,
                       sanitize: bool = True, extra_sources: Iterable[str | Path] = (),
                       cflags: Iterable[str] = (), name: str = "libfitml_runtime.so") -> Path:
    """Compile the runtime into a host shared library with gcc (UBSan by default).

    UBSan aborts on the first finding (-fno-sanitize-recover), so undefined behaviour fails a
    test instead of scrolling by. Raises RuntimeError with gcc's output on failure.
    """
    out = Path(out_dir) / name
    out.parent.mkdir(parents=True, exist_ok=True)
    flags = [*C99_WARNINGS, "-O1", "-g", "-fPIC", "-shared"]
    if sanitize:
        flags += ["-fsanitize=undefined", "-fno-sanitize-recover=all"]
    cmd = (["gcc", *flags, *cflags, f"-I{include_dir()}"]
           + [str(s) for s in runtime_sources(kernels)] + [str(s) for s in extra_sources]
           + ["-o", str(out), "-lm"])
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"runtime build failed: {' '.join(cmd)}\n{result.stderr}")
    return out


# ---- ctypes mirror of the parameter structs -------------------------------------------------

_SCALARS = {"int32_t": ctypes.c_int32, "float": ctypes.c_float, "uint8_t": ctypes.c_uint8}
_CLASSES: dict[str, type[ctypes.Structure]] = {}


def struct_fields(struct: str) -> list[tuple[str, str]]:
    """(field, C type) pairs of a parameter struct (typedef aliases resolved)."""
    return STRUCTS[ALIASES.get(struct, struct)]


def _ctype(decl: str):
    if decl.endswith("*"):
        return ctypes.c_void_p
    array = re.fullmatch(r"(\w+)\[(\d+)\]", decl)
    if array:
        return _SCALARS[array.group(1)] * int(array.group(2))
    return _SCALARS[decl] if decl in _SCALARS else ctypes_struct(decl)


def ctypes_struct(struct: str) -> type[ctypes.Structure]:
    """The ctypes.Structure class with the C layout of `struct`."""
    struct = ALIASES.get(struct, struct)
    if struct not in _CLASSES:
        fields = [(name, _ctype(decl)) for name, decl in STRUCTS[struct]]
        _CLASSES[struct] = type(struct, (ctypes.Structure,), {"_fields_": fields})
    return _CLASSES[struct]


def to_ctypes(struct: str, values: Mapping, resolve: Callable[[str], np.ndarray]):
    """(ctypes struct, keep-alive list) from a lowering's params dict.

    Pointer fields take a CArray, a TensorRef (resolved to an array by `resolve`), an ndarray,
    or None / "NULL"; nested structs take dicts; fixed arrays take sequences (zero-padded).
    Every field must be given, and no unknown field may be: this checks the names too.
    """
    keep: list = []
    obj = ctypes_struct(struct)()
    fields = dict(struct_fields(struct))
    extra = set(values) - set(fields)
    missing = set(fields) - set(values)
    if extra or missing:
        raise KeyError(f"{struct}: unknown fields {sorted(extra)}, missing {sorted(missing)}")
    for name, decl in fields.items():
        value = values[name]
        if decl.endswith("*"):
            if isinstance(value, CArray):
                value = value.values
            elif isinstance(value, (TensorRef, StateRef)):
                value = resolve(value.name)
            if value is None or (isinstance(value, str) and value == "NULL"):
                setattr(obj, name, None)
                continue
            arr = np.ascontiguousarray(value)
            keep.append(arr)
            setattr(obj, name, arr.ctypes.data)
        elif isinstance(value, Mapping):
            sub, sub_keep = to_ctypes(decl, value, resolve)
            keep += sub_keep
            setattr(obj, name, sub)
        elif "[" in decl:
            target = getattr(obj, name)
            if len(value) > len(target):
                raise ValueError(f"{struct}.{name}: {len(value)} values for {len(target)}")
            for i, v in enumerate(value):
                target[i] = v
        else:
            setattr(obj, name, float(value) if decl == "float" else int(value))
    return obj, keep
