"""Where fitml may write a folder: the rules that keep `-o` and `--plot` from destroying the
user's files (docs/security.md, "Output folders"); single files and their name checks are in
outpath.py, the `--prefix` rule in cprefix.py.

A folder is replaced only when it is empty or a previous fitml output: its `.fitml-output`
marker lists every entry fitml wrote and nothing else is inside; `--force` replaces any other
folder. Never replaced: a file or symlink where a folder goes, '', '.', '/', the working folder
or a folder holding an input.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from ..errors import UsageError
from ..version import __version__
from .outpath import check_name, check_not_link, kind_text, label

MARKER = ".fitml-output"
MARKER_SCHEMA = "fitml.output/1"
_MARKER_MAX_BYTES = 4 << 20
_SHOWN = 3                                      # foreign entries named in an error
_FORCED: ContextVar[tuple] = ContextVar("fitml_forced_outputs", default=())


@contextmanager
def replacing(out, force: bool):
    """While active, atomic_path may replace the folder `out` even if fitml did not write it."""
    token = _FORCED.set(_FORCED.get() + (os.path.abspath(out),) if force else _FORCED.get())
    try:
        yield
    finally:
        _FORCED.reset(token)


def forced(target: Path) -> bool:
    return os.path.abspath(target) in _FORCED.get()


def check_dir_target(out, force: bool = False, flag: str | None = "-o",
                     inputs=()) -> Path:
    """The folder path `out` if fitml may write (or replace) it there, else a UsageError."""
    path = Path(out)
    check_name(path, out, flag)
    check_not_link(path, out, flag, "folder")
    full = Path(os.path.realpath(path))
    if full == Path(full.anchor):
        raise UsageError(f"{label(out, flag)}: is the filesystem root")
    try:
        cwd = Path(os.path.realpath(os.getcwd()))
    except OSError:                     # the working folder was deleted: nothing to protect
        cwd = None
    if cwd is not None and (cwd == full or full in cwd.parents):
        raise UsageError(f"{label(out, flag)}: is or contains the current working folder; "
                         "name a folder of its own")
    for source in inputs:
        if isinstance(source, (str, Path)) and str(source) and os.path.exists(source):
            real = Path(os.path.realpath(source))
            if real == full or full in real.parents:
                raise UsageError(f"{label(out, flag)}: holds the input {source}, which "
                                 "replacing the folder would delete; write elsewhere")
    for parent in path.absolute().parents:
        if os.path.lexists(parent) and not parent.is_dir():
            raise UsageError(f"{label(out, flag)}: {parent} is not a folder")
    if os.path.lexists(path):
        if not path.is_dir():
            raise UsageError(f"{label(out, flag)}: is {kind_text(path)}, not a folder; fitml "
                             "writes a folder here and never replaces a file")
        why = None if force or forced(path) else refusal(path)
        if why:
            raise UsageError(f"{label(out, flag)}: {why}; choose another folder, or pass "
                             "--force to replace it with everything in it")
    return path


def _entries(folder: Path):
    """Every entry under `folder`, relative, folders ending in '/', sorted per level; links
    are entries, never followed."""
    def walk(here: Path, rel: str):
        with os.scandir(here) as it:
            items = sorted(it, key=lambda e: e.name)
        for e in items:
            sub = rel + e.name
            if e.is_dir(follow_symlinks=False):
                yield sub + "/"
                yield from walk(Path(e.path), sub + "/")
            else:
                yield sub
    yield from walk(folder, "")


def listed_entries(folder: Path) -> set | None:
    """The entries the folder's marker says fitml wrote, or None without a valid marker."""
    marker = folder / MARKER
    try:
        if not marker.is_file() or marker.is_symlink() or \
                marker.stat().st_size > _MARKER_MAX_BYTES:
            return None
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != MARKER_SCHEMA or \
            not isinstance(data.get("entries"), list):
        return None
    return {e for e in data["entries"] if isinstance(e, str)}


def refusal(folder: Path) -> str | None:
    """Why the existing folder may not be replaced without --force (None: it may be): it holds
    something fitml did not write (the first few are named)."""
    listed = listed_entries(folder)
    foreign = []
    try:
        for entry in _entries(folder):
            if entry != MARKER and (listed is None or entry not in listed):
                foreign.append(entry)
                if len(foreign) > _SHOWN:
                    break
    except OSError as exc:
        return f"cannot be inspected ({exc.strerror})"
    if not foreign:
        return None
    names = ", ".join(foreign[:_SHOWN]) + (", ..." if len(foreign) > _SHOWN else "")
    if listed is None:
        return f"is not a fitml output folder (no {MARKER}) and holds {names}"
    return f"holds files fitml did not write: {names}"


def write_marker(folder: Path) -> None:
    """List every entry of a finished output folder in its marker (fitml's own files)."""
    entries = [e for e in _entries(folder) if e != MARKER]
    (folder / MARKER).write_text(json.dumps({"schema": MARKER_SCHEMA, "fitml": __version__,
                                             "entries": entries}, indent=1) + "\n")
