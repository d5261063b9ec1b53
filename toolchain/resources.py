"""Where fitml's non-Python files live: the repo checkout, or the wheel's bundled copy."""
from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """`targets`, `templates` or `runtime_c`: beside the package in a checkout, else bundled."""
    for candidate in (_PKG.parent / name, _PKG / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"fitml resource directory {name!r} not found (broken install?)")
