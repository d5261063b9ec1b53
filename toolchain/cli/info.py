"""`fitml boards`: the shipped targets (boards, cores, phones) with core, memory and clock."""
from __future__ import annotations

from ..targets import known_targets, load_target
from .common import print_json


def board_rows() -> list[dict]:
    rows = []
    for name in known_targets():
        t = load_target(name)
        size = lambda kind: sum(r.size for r in t.regions if r.kind == kind)  # noqa: E731
        rows.append({"name": t.name, "kind": t.kind, "core": t.core,
                     "flash_bytes": size("flash"), "ram_bytes": size("ram"),
                     "clock_hz": t.clock_hz, "description": t.description})
    return rows


def _kib(n: int) -> str:
    return "-" if not n else f"{n // 1024:,} KiB" if n % 1024 == 0 else f"{n:,} B"


def cmd_boards(args) -> int:
    rows = [r for r in board_rows() if args.all or r["kind"] == "board"]
    if args.json:
        print_json(rows)
        return 0
    print(f"{'name':<28} {'core':<12} {'flash':>10} {'RAM':>10} {'clock':>8}  description")
    for r in rows:
        clock = f"{r['clock_hz'] / 1e6:g} MHz" if r["clock_hz"] else "-"
        print(f"{r['name']:<28} {r['core']:<12} {_kib(r['flash_bytes']):>10} "
              f"{_kib(r['ram_bytes']):>10} {clock:>8}  {r['description']}")
    return 0


def add_verbs(sub) -> None:
    s = sub.add_parser("boards", help="the boards fitml knows: core, flash, RAM, clock")
    s.add_argument("--all", action="store_true",
                   help="also the bare cores (QEMU machines) and the mobile targets")
    s.add_argument("--json", action="store_true", help="one JSON object per target")
    s.set_defaults(func=cmd_boards)
