"""fitml's build cache: the `builds` folder of fitml's cache (util/cache_dir.py), shared by every
build and pruned to `$FITML_CACHE_MAX` bytes, least recently used first, once per process."""
from __future__ import annotations

from pathlib import Path

from ..util.cache_dir import cache_dir, max_bytes, prune

_pruned: set[Path] = set()


def cache_root() -> Path:
    root = cache_dir("builds")
    if root not in _pruned:
        _pruned.add(root)
        limit = max_bytes()
        if limit > 0:
            prune(root, limit)
    return root
