"""The insn_count QEMU plugin: its C source, built with the host compiler on first use.

Debian's QEMU has no plugins of its own and no headers for them, so insn_count.c declares the
few version-1 plugin API functions it calls. setup.sh builds it once beside the Python
environment (verify/prebuild.py); else the shared object is cached in fitml's cache folder
(util/cache_dir.py: `$FITML_CACHE`, default `~/.cache/fitml`), keyed by a hash of the source,
and written atomically so that parallel test workers can build it at the same time.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ...errors import BuildError, ToolchainMissing
from ...util.cache_dir import PREBUILT_HOME, cache_home

SOURCE = Path(__file__).with_name("insn_count.c")


def insn_count_plugin() -> Path:
    """Path of the built plugin (.so), building it first if this source is not cached yet."""
    src = SOURCE.read_bytes()
    name = f"insn_count-{hashlib.sha256(src).hexdigest()[:16]}.so"
    if (PREBUILT_HOME / name).is_file():                  # built by setup (verify/prebuild.py)
        return PREBUILT_HOME / name
    return build_plugin(cache_home() / name)


def build_plugin(out: Path) -> Path:
    """Build the plugin into `out` (unless it is there)."""
    if out.is_file():
        return out
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise ToolchainMissing("host C compiler (gcc) not found: run ./setup.sh")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    cmd = [cc, "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden",
           "-o", str(tmp), str(SOURCE)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"building the insn_count plugin failed:\n{proc.stderr}")
    os.replace(tmp, out)
    return out
