"""Where fitml may write: the rules that keep `-o`, `--plot` and `--prefix` from destroying
the user's files (docs/security.md, "Output folders").

A folder is replaced only when it is empty or a previous fitml output: its `.fitml-output`
marker lists every entry fitml wrote and nothing else is inside; `--force` replaces any other
folder. Never replaced: a file or symlink where a folder goes, '', '.', '/', the working folder
or a folder holding an input. A single file replaces only a file of the same kind (an .npz by
an .npz, an SVG by an SVG), in a folder that already exists.
"""
from __future__ import annotations

import json
import os
import re
import stat
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from ..errors import UsageError
from ..version import __version__

MARKER = ".fitml-output"
MARKER_SCHEMA = "fitml.output/1"
_MARKER_MAX_BYTES = 4 << 20
_SHOWN = 3                                      # foreign entries named in an error
_FORCED: ContextVar[tuple] = ContextVar("fitml_forced_outputs", default=())


def _label(path, flag: str | None) -> str:
    shown = repr(str(path)) if str(path) in ("", ".") or not str(path).isprintable() else path
    return f"{flag} {shown}" if flag else str(shown)


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


def _check_name(path: Path, raw, flag: str | None) -> None:
    """Refuse '', '.', '..', '/', the filesystem root and names the filesystem cannot hold."""
    if str(raw) == "":
        raise UsageError(f"{_label(raw, flag)}: empty path; name the output")
    if path.name in ("", ".", ".."):
        raise UsageError(f"{_label(raw, flag)}: not a name fitml can write to (the current "
                         "folder, its parent or the root); name a new output, e.g. build/model")
    if len(os.fsencode(path.name)) > 200:
        raise UsageError(f"{_label(raw, flag)}: name longer than 200 bytes")


def _check_not_link(path: Path, raw, flag: str | None, what: str) -> None:
    if path.is_symlink():
        dest = os.readlink(path)
        state = "" if path.exists() else ", which does not exist"
        raise UsageError(f"{_label(raw, flag)}: is a symlink (to {dest}{state}); fitml does "
                         f"not write through or over links: name the {what} itself")


def check_dir_target(out, force: bool = False, flag: str | None = "-o",
                     inputs=()) -> Path:
    """The folder path `out` if fitml may write (or replace) it there, else a UsageError."""
    path = Path(out)
    _check_name(path, out, flag)
    _check_not_link(path, out, flag, "folder")
    full = Path(os.path.realpath(path))
    if full == Path(full.anchor):
        raise UsageError(f"{_label(out, flag)}: is the filesystem root")
    try:
        cwd = Path(os.path.realpath(os.getcwd()))
    except OSError:                     # the working folder was deleted: nothing to protect
        cwd = None
    if cwd is not None and (cwd == full or full in cwd.parents):
        raise UsageError(f"{_label(out, flag)}: is or contains the current working folder; "
                         "name a folder of its own")
    for source in inputs:
        if isinstance(source, (str, Path)) and str(source) and os.path.exists(source):
            real = Path(os.path.realpath(source))
            if real == full or full in real.parents:
                raise UsageError(f"{_label(out, flag)}: holds the input {source}, which "
                                 "replacing the folder would delete; write elsewhere")
    for parent in path.absolute().parents:
        if os.path.lexists(parent) and not parent.is_dir():
            raise UsageError(f"{_label(out, flag)}: {parent} is not a folder")
    if os.path.lexists(path):
        if not path.is_dir():
            raise UsageError(f"{_label(out, flag)}: is {_kind_text(path)}, not a folder; fitml "
                             "writes a folder here and never replaces a file")
        why = None if force or forced(path) else refusal(path)
        if why:
            raise UsageError(f"{_label(out, flag)}: {why}; choose another folder, or pass "
                             "--force to replace it with everything in it")
    return path


def _kind_text(path: Path) -> str:
    mode = os.lstat(path).st_mode
    if stat.S_ISREG(mode):
        return f"an existing file ({os.lstat(path).st_size:,} B)"
    return "a special file (device, socket or pipe)"


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


FILE_KINDS = {".tflite": "tflite", ".npz": "npz", ".png": "png", ".svg": "svg"}
_KIND_NAMES = {"tflite": "a .tflite model", "npz": "an .npz archive", "png": "a PNG image",
               "svg": "an SVG image", "json": "JSON"}


def file_kind(path: Path) -> str | None:
    """What a regular file holds, from its first bytes: empty, tflite, npz, png, svg, json
    (None: something else, or unreadable)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return None
    text = head.lstrip()
    if not head:
        return "empty"
    if head[4:8] == b"TFL3":
        return "tflite"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "npz"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head):
        return "svg"
    return "json" if text.startswith(b"{") else None


def check_file_target(path, flag: str | None = None, kind: str | None = None) -> Path:
    """The file path if fitml may write there: its folder exists; it is new, empty, or a
    regular file of `kind` (default: from the suffix; None accepts any existing file)."""
    p = Path(path)
    _check_name(p, path, flag)
    _check_not_link(p, path, flag, "file")
    parent = p.parent
    if not parent.is_dir():
        state = "is not a folder" if os.path.lexists(parent) else "does not exist"
        raise UsageError(f"{_label(path, flag)}: the folder {parent} {state}; fitml creates "
                         "no folders for a single output file")
    if not os.path.lexists(p):
        return p
    if p.is_dir():
        raise UsageError(f"{_label(path, flag)}: is a folder; name a file to write")
    if not stat.S_ISREG(os.lstat(p).st_mode):
        raise UsageError(f"{_label(path, flag)}: is {_kind_text(p)}; name a regular file")
    kind = kind or FILE_KINDS.get(p.suffix.lower())
    have = file_kind(p)
    if kind is not None and have not in ("empty", kind):
        raise UsageError(f"{_label(path, flag)}: exists and holds "
                         f"{_KIND_NAMES.get(have, 'something else')}, not "
                         f"{_KIND_NAMES[kind]}; fitml replaces only a file of the kind it "
                         "writes: remove it or name another file")
    return p


_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto "
    "if inline int long register restrict return short signed sizeof static struct switch "
    "typedef union unsigned void volatile while alignas alignof bool constexpr false "
    "nullptr static_assert thread_local true typeof typeof_unqual asm".split())
PREFIX_MAX = 32


def check_prefix(prefix) -> str:
    """`prefix` if it can start every C symbol and file name of a project, else UsageError:
    a C identifier of at most PREFIX_MAX characters, not a keyword, not fitml's own (the
    runtime's FITML_H guard and fitml_* symbols) nor the C implementation's (__x, _X)."""
    shown = repr(prefix if len(str(prefix)) <= 40 else str(prefix)[:40] + "...")
    rule = ("a C identifier prefix: a letter or _, then letters, digits or _, at most "
            f"{PREFIX_MAX} characters (e.g. model, kws_v2)")
    if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prefix):
        raise UsageError(f"--prefix {shown}: not {rule}")
    if len(prefix) > PREFIX_MAX:
        raise UsageError(f"--prefix {shown}: {len(prefix)} characters; use {rule}")
    if prefix.lower().startswith("fitml"):
        raise UsageError(f"--prefix {shown}: fitml* names belong to the fitml runtime; choose "
                         "another prefix")
    if prefix.startswith("__") or re.match(r"_[A-Z]", prefix):
        raise UsageError(f"--prefix {shown}: names starting with __ or _ and a capital are "
                         "reserved by C; choose another prefix")
    if prefix in _C_KEYWORDS:
        raise UsageError(f"--prefix {shown}: is a C keyword; choose another prefix")
    return prefix
