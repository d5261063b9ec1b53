"""Where fitml may write a single output file, and the name checks every output path passes
(docs/security.md, "Output folders"): a file replaces only a file of the same kind (an .npz by
an .npz, an SVG by an SVG), in a folder that already exists; never a link, a folder or '.'."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import UsageError


def label(path, flag: str | None) -> str:
    """How an error names the output: the flag and the path (quoted when unprintable)."""
    shown = repr(str(path)) if str(path) in ("", ".") or not str(path).isprintable() else path
    return f"{flag} {shown}" if flag else str(shown)


def check_name(path: Path, raw, flag: str | None) -> None:
    """Refuse '', '.', '..', '/', the filesystem root and names the filesystem cannot hold."""
    if str(raw) == "":
        raise UsageError(f"{label(raw, flag)}: empty path; name the output")
    if path.name in ("", ".", ".."):
        raise UsageError(f"{label(raw, flag)}: not a name fitml can write to (the current "
                         "folder, its parent or the root); name a new output, e.g. build/model")
    if len(os.fsencode(path.name)) > 200:
        raise UsageError(f"{label(raw, flag)}: name longer than 200 bytes")


def check_not_link(path: Path, raw, flag: str | None, what: str) -> None:
    """Refuse a symlink where an output goes: fitml writes neither through nor over links."""
    if path.is_symlink():
        dest = os.readlink(path)
        state = "" if path.exists() else ", which does not exist"
        raise UsageError(f"{label(raw, flag)}: is a symlink (to {dest}{state}); fitml does "
                         f"not write through or over links: name the {what} itself")


def kind_text(path: Path) -> str:
    """What the existing non-folder at `path` is, for an error."""
    mode = os.lstat(path).st_mode
    if stat.S_ISREG(mode):
        return f"an existing file ({os.lstat(path).st_size:,} B)"
    return "a special file (device, socket or pipe)"


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
    check_name(p, path, flag)
    check_not_link(p, path, flag, "file")
    parent = p.parent
    if not parent.is_dir():
        state = "is not a folder" if os.path.lexists(parent) else "does not exist"
        raise UsageError(f"{label(path, flag)}: the folder {parent} {state}; fitml creates "
                         "no folders for a single output file")
    if not os.path.lexists(p):
        return p
    if p.is_dir():
        raise UsageError(f"{label(path, flag)}: is a folder; name a file to write")
    if not stat.S_ISREG(os.lstat(p).st_mode):
        raise UsageError(f"{label(path, flag)}: is {kind_text(p)}; name a regular file")
    kind = kind or FILE_KINDS.get(p.suffix.lower())
    have = file_kind(p)
    if kind is not None and have not in ("empty", kind):
        raise UsageError(f"{label(path, flag)}: exists and holds "
                         f"{_KIND_NAMES.get(have, 'something else')}, not "
                         f"{_KIND_NAMES[kind]}; fitml replaces only a file of the kind it "
                         "writes: remove it or name another file")
    return p
