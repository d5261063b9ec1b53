"""fitml's cache folder: builds (ELFs, objects), the QEMU plugin and compiled templates.

Where: `$FITML_CACHE`, else `$XDG_CACHE_HOME/fitml`, else `~/.cache/fitml`. Every entry is keyed
by a hash of what went into it, so none is ever stale; the folder is bounded instead: once per
process the oldest build entries (by last use) go until the builds take at most
`$FITML_CACHE_MAX` bytes (default 2 GiB; `0` = unbounded). Entries used in the last ten minutes
are kept whatever the size, so a parallel process never loses a build it is reading.

fitml deletes only what it wrote: a folder counts as fitml's cache when it is the default
location or carries the `.fitml-cache` marker (written when fitml creates or first fills an
empty folder), and only entries named the way fitml names them (hash-keyed) are ever removed.
A `FITML_CACHE` pointed at a folder of the user's own is used but never pruned or cleared.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

DEFAULT_MAX_BYTES = 2 << 30
# what setup builds once for the installation (runtime objects, the QEMU plugin): beside the
# Python environment, outside the cache, so `fitml cache clear` leaves it (verify/prebuild.py)
PREBUILT_HOME = Path(sys.prefix) / "share" / "fitml"
RECENT_S = 600            # entries touched this recently are never pruned
MARKER = ".fitml-cache"
# The names fitml gives cache entries (verify/cbuild.py, verify/objects.py, verify/harness_only.py,
# util/templating.py, verify/qemu_plugin, cli/memo.py): nothing else is ever deleted.
ENTRY_NAME = re.compile(r"(harness-)?[0-9a-f]{24}|[0-9a-f]{32}\.o|__jinja2_[0-9a-f]{40}\.cache"
                        r"|insn_count-[0-9a-f]{16}\.so|result-[0-9a-f]{32}\.json")


def default_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fitml"


def cache_home() -> Path:
    env = os.environ.get("FITML_CACHE")
    return Path(env) if env else default_home()


def owned(home: Path) -> bool:
    """Whether fitml may delete entries under `home`: its default location, or marked."""
    return home == default_home() or (home / MARKER).is_file()


def cache_dir(name: str) -> Path:
    """The cache's sub-folder `name`, created if missing; a cache root fitml creates, or finds
    empty, gets the ownership marker."""
    home = cache_home()
    if not home.is_dir() or not any(home.iterdir()):
        home.mkdir(parents=True, exist_ok=True)
        (home / MARKER).write_text("fitml build cache: `fitml cache clear` empties it\n")
    path = home / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_bytes() -> int:
    raw = os.environ.get("FITML_CACHE_MAX", "")
    try:
        return int(raw) if raw else DEFAULT_MAX_BYTES
    except ValueError:
        return DEFAULT_MAX_BYTES


def entry_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def entries(root: Path) -> list[tuple[float, int, Path]]:
    """(last use, bytes, path) of each fitml-named entry of a cache folder; sub-folders of
    single files (`objects/`) count each file as an entry."""
    found = []
    for child in root.iterdir() if root.is_dir() else ():
        if child.name.startswith("."):
            continue             # a build still being written (renamed into place when done)
        kids = list(child.iterdir()) if child.is_dir() and child.name == "objects" else [child]
        for path in kids:
            if not ENTRY_NAME.fullmatch(path.name):
                continue
            try:
                found.append((path.stat().st_mtime, entry_bytes(path), path))
            except OSError:
                pass
    return found


def prune(root: Path, limit: int, now: float | None = None) -> tuple[int, int]:
    """Remove the least recently used entries of `root` until it holds at most `limit` bytes,
    never one used in the last RECENT_S seconds; nothing unless `root`'s cache is fitml's
    (`owned`). Returns (entries removed, bytes freed)."""
    if not owned(root.parent):
        return 0, 0
    now = time.time() if now is None else now
    found = sorted(entries(root))
    total = sum(size for _, size, _ in found)
    removed = freed = 0
    for used, size, path in found:
        if total - freed <= limit or now - used < RECENT_S:
            break
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed, freed = removed + 1, freed + size
    return removed, freed


def touch(path: Path) -> None:
    """Mark a cache entry as just used (it is pruned last)."""
    try:
        os.utime(path)
    except OSError:
        pass


def clear() -> tuple[int, int]:
    """Remove every fitml entry of the cache (none from a folder fitml does not own).
    Returns (entries removed, bytes freed)."""
    home = cache_home()
    if not owned(home):
        return 0, 0
    found = [e for sub in ("builds", "templates") for e in entries(home / sub)]
    found += [(0.0, p.stat().st_size, p) for p in home.glob("insn_count-*.so")
              if ENTRY_NAME.fullmatch(p.name)]
    for _, _, path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return len(found), sum(size for _, size, _ in found)
