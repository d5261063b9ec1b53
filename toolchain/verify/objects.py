"""Sources to objects for one Cortex-M program: each source compiled on its own, all of them at
once (one gcc per core), and the objects that do not depend on the model kept in the build
cache by content, so the next model reuses them.

Shared, content-addressed objects (`objects/<hash>.o` in the build cache, keyed by the
compiler, the flags and the bytes of the source and of every header it can see):
- the runtime's kernel sources, compiled with the runtime's include directory only (a kernel
  never includes a model's header), so every model built for a core with the same flags links
  the same kernel objects;
- sources over BIG_SOURCE bytes (megabytes of weight arrays take gcc seconds to parse).
Everything else is compiled into the build's own folder. The link then takes the objects in the
order of the sources, so the program is the one a single `gcc a.c b.c ...` links.

The runtime's objects for every core and flags the shipped targets use are also built once at
setup (`python -m toolchain.verify.prebuild`, run by setup.sh) into PREBUILT beside the Python
installation (`<sys.prefix>/share/fitml/objects`), looked up first: like a shipped kernel
library, they outlive `fitml cache clear`, so a first check of any model finds them.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from ..errors import BuildError
from ..resources import resource_dir
from ..util.cache_dir import PREBUILT_HOME
from .cache import cache_root

BIG_SOURCE = 1 << 20
PREBUILT = PREBUILT_HOME / "objects"


def compile_objects(compiler: Sequence[str], flags: Sequence[str], sources: Sequence[Path],
                    include_dirs: Sequence[Path], out_dir: Path) -> list[Path]:
    """The object of every source, in order: `compiler` + `flags` + `-c`. Assembly sources
    (.s) are assembled with the same driver. Raises BuildError with gcc's first error."""
    runtime = resource_dir("runtime_c").resolve()
    jobs = []
    for k, source in enumerate(map(Path, sources)):
        if source.resolve().is_relative_to(runtime):
            jobs.append(runtime_job(compiler, flags, source))
            continue
        dirs = list(map(Path, include_dirs))
        cmd = [*compiler, *flags, *(f"-I{d}" for d in dirs)]
        if source.suffix == ".c" and source.stat().st_size > BIG_SOURCE:
            jobs.append((cmd, source, cache_root() / "objects" / _object_name(cmd, source, dirs)))
        else:
            jobs.append((cmd, source, out_dir / f"{k:02d}-{source.stem}.o"))
    return run_jobs(jobs)


def runtime_job(compiler: Sequence[str], flags: Sequence[str], source: Path
                ) -> tuple[list[str], Path, Path]:
    """(command, source, object) of a runtime source: compiled with the runtime's include
    directory only; its object from PREBUILT when setup built it, else the build cache."""
    dirs = [resource_dir("runtime_c").resolve() / "include"]
    cmd = [*compiler, *flags, *(f"-I{d}" for d in dirs)]
    name = _object_name(cmd, source, dirs)
    prebuilt = PREBUILT / name
    return cmd, source, prebuilt if prebuilt.is_file() else cache_root() / "objects" / name


def run_jobs(jobs: list[tuple[list[str], Path, Path]]) -> list[Path]:
    """Compile the jobs whose object is missing, one gcc per core; the objects in order."""
    with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
        errors = [e for e in pool.map(_compile, jobs) if e]
    if errors:
        raise BuildError(errors[0])
    return [obj for _, _, obj in jobs]


def _object_name(cmd: list[str], source: Path, include_dirs: Sequence[Path]) -> str:
    """<hash>.o for `source` compiled with `cmd` (the compiler identified by its path and
    modification time) seeing the headers of `include_dirs` and of its own folder."""
    gcc = Path(cmd[0]).resolve()
    h = hashlib.sha256(repr((str(gcc), gcc.stat().st_mtime_ns, cmd[1:], source.name)).encode())
    h.update(source.read_bytes())
    for d in dict.fromkeys([source.parent, *map(Path, include_dirs)]):
        h.update(_headers_digest(Path(d)))
    return f"{h.hexdigest()[:32]}.o"


_HEADERS: dict[tuple[Path, tuple], bytes] = {}


def _headers_digest(folder: Path) -> bytes:
    """A digest of every header under `folder` (names and bytes), once per process for the
    same set of (name, size, modification time)."""
    headers = sorted(folder.rglob("*.h"))
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in headers)
    if (folder, stamp) not in _HEADERS:
        h = hashlib.sha256()
        for header in headers:
            h.update(str(header.relative_to(folder)).encode() + b"\0" + header.read_bytes())
        _HEADERS[(folder, stamp)] = h.digest()
    return _HEADERS[(folder, stamp)]


def _compile(job: tuple[list[str], Path, Path]) -> str | None:
    """Compile one source (skipped when its cached object exists); the failure text or None."""
    cmd, source, obj = job
    if obj.exists():
        return None
    obj.parent.mkdir(parents=True, exist_ok=True)
    tmp = obj.with_name(f"{obj.stem}.{os.getpid()}.{id(job)}.tmp.o")
    proc = subprocess.run([*cmd, "-c", str(source), "-o", str(tmp)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        return proc.stderr or f"{Path(cmd[0]).name} failed on {source.name}"
    os.replace(tmp, obj)
    return None
