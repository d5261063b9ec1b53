"""fitml's build cache: $FITML_CACHE (default ~/.cache/fitml)/builds, shared by every build."""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    root = Path(os.environ.get("FITML_CACHE", Path.home() / ".cache" / "fitml")) / "builds"
    root.mkdir(parents=True, exist_ok=True)
    return root
