"""`fitml cache` (where the build cache is, how big) and `fitml cache clear`."""
from __future__ import annotations

from ..util.cache_dir import MARKER, cache_home, clear, entries, max_bytes, owned
from .common import print_json


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def cmd_cache(args) -> int:
    home = cache_home()
    if args.action == "clear":
        if not owned(home):
            print(f"{home} is not marked as fitml's cache (no {MARKER}): nothing removed")
            return 0
        removed, freed = clear()
        print(f"removed {removed:,} entries ({_mb(freed)}) from {home}")
        return 0
    builds = entries(home / "builds")
    info = {"path": str(home), "build_entries": len(builds),
            "build_bytes": sum(size for _, size, _ in builds), "max_bytes": max_bytes()}
    if args.json:
        print_json(info)
        return 0
    limit = _mb(info["max_bytes"]) if info["max_bytes"] > 0 else "unbounded"
    print(f"{home}: {info['build_entries']:,} builds, {_mb(info['build_bytes'])} "
          f"(limit {limit}: FITML_CACHE_MAX; location: FITML_CACHE)")
    return 0


def add_verbs(sub) -> None:
    s = sub.add_parser("cache", help="the build cache: location and size, or clear it")
    s.add_argument("action", nargs="?", choices=("info", "clear"), default="info",
                   help="info (default): location, size, limit; clear: empty the cache")
    s.add_argument("--json", action="store_true", help="info as one JSON object")
    s.set_defaults(func=cmd_cache)
