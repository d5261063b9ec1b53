"""`fitml check`'s result cache: a check whose every input is unchanged prints what it printed
before, without loading the model or importing numpy (CI gates re-check the same models on every
push; a warm check is then this file's work alone).

The key is a hash of everything the verdict depends on: the arguments; the bytes of every
argument that names a file (models, board .toml files, `--baseline`); fitml's own sources,
runtime, templates and board files (path, size and modification time of each); the compilers,
binutils and QEMU on PATH and the Python packages fitml reads models with (path, size and
modification time); the Python version and the `FITML_*` environment. Only finished checks are
kept (exit 0 fits, 1 does not), with their standard output and error, as `result-<hash>.json`
in the build cache (pruned with it). `--plot` (it writes a file) and model folders are never
cached; `FITML_RESULT_CACHE=0` turns the cache off.

Imports here are the standard library and the cache folder's module only: the fast path must
not pay for what it skips.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import shutil
import sys
from pathlib import Path

from ..util.cache_dir import cache_home

TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-nm", "arm-none-eabi-objdump", "qemu-system-arm",
         "gcc", "cc", "clang")
PACKAGES = ("numpy", "jinja2", "ai_edge_litert", "tflite_micro", "onnx", "onnxruntime", "torch",
            "h5py", "ml_dtypes")
_PKG = Path(__file__).resolve().parents[1]
_SKIP_ENV = {"FITML_CACHE", "FITML_CACHE_MAX", "FITML_RESULT_CACHE", "FITML_DEBUG"}


def key(argv: list[str]) -> str | None:
    """The result key of a `check` command line, or None when it is not cacheable."""
    if not argv or argv[0] != "check" or os.environ.get("FITML_RESULT_CACHE") == "0":
        return None
    if any(a == "--plot" or a.startswith("--plot=") for a in argv):
        return None
    h = hashlib.sha256(repr((argv, sys.version, sys.executable)).encode())
    for arg in argv[1:]:
        for path in {arg, arg.partition("=")[2]} - {""}:
            if os.path.isdir(path) and not path.startswith("-"):
                return None                      # a SavedModel folder: too much to hash
            if os.path.isfile(path):
                h.update(path.encode() + b"\0" + Path(path).read_bytes())
    h.update(repr(sorted((k, v) for k, v in os.environ.items()
                         if k.startswith("FITML_") and k not in _SKIP_ENV)).encode())
    for tool in TOOLS:
        h.update(_stat(shutil.which(tool)).encode())
    for name in PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):   # blocked in sys.modules
            spec = None
        h.update(_stat(spec.origin if spec else None).encode())
    h.update(sources_fingerprint().encode())
    return h.hexdigest()[:32]


def _stat(path) -> str:
    if not path:
        return "-\n"
    try:
        st = os.stat(path)
    except OSError:
        return f"{path} ?\n"
    return f"{os.path.realpath(path)} {st.st_size} {st.st_mtime_ns}\n"


def sources_fingerprint() -> str:
    """Path, size and modification time of every file of the package and its resources."""
    roots = [_PKG] + [d for d in (_PKG.parent / n for n in ("runtime_c", "templates", "targets"))
                      if d.is_dir()]
    lines = []
    for root in roots:
        for dirpath, dirnames, files in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(files):
                if not name.endswith((".pyc", ".tmp")):
                    lines.append(_stat(os.path.join(dirpath, name)))
    return "".join(lines)


def _path(k: str) -> Path:
    return cache_home() / "builds" / f"result-{k}.json"


def replay(k: str) -> int | None:
    """Print a cached result and return its exit code; None when there is none."""
    try:
        data = json.loads(_path(k).read_text())
        os.utime(_path(k))                       # recently used: pruned last
    except (OSError, ValueError):
        return None
    sys.stdout.write(data["stdout"])
    sys.stderr.write(data["stderr"])
    return int(data["exit"])


class Tee(io.TextIOBase):
    """A text stream writing through to `stream` and keeping a copy (progress-bar redraws,
    which carry a carriage return, are not kept)."""

    def __init__(self, stream):
        self.stream, self.kept = stream, []

    def write(self, text: str) -> int:
        if "\r" not in text:
            self.kept.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self):
        return self.stream.encoding


def store(k: str, code: int, out: Tee, err: Tee) -> None:
    """Keep a finished check's output (exit 0 or 1) under its key."""
    if code not in (0, 1):
        return
    path = _path(k)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"exit": code, "stdout": "".join(out.kept),
                                   "stderr": "".join(err.kept)}))
        os.replace(tmp, path)
    except OSError:
        pass                                     # a read-only cache: check again next time
