"""Regenerate README.md's measured tables from the benchmark scripts that produce them.

Each generated section names its command in its opening marker, and nothing between the
markers is edited by hand:

    <!-- gen:speed benchmarks/speed.py --mobilenet -->
    ...the script's standard output...
    <!-- /gen:speed -->

A command is a script under benchmarks/ and its arguments, run with this Python from the
repository root. Instruction counts and bytes are exact (QEMU's counting plugin), so `--check`
reruns every section and exits 1 naming those whose output differs. A section marked
`measured` (`<!-- gen:scale measured benchmarks/scale.py --readme -->`) holds timings of the
machine it ran on: `--check` reruns it only with `--measured`, and then checks it cell by cell:
the same rows and columns, every cell equal except those of timing columns (a header ending
in " s", or a cell ending in " s") and of peak-memory columns (a header ending in " MB"), which
must lie within a factor TIME_FACTOR of the committed value (or both under TIME_FLOOR seconds /
MEMORY_FLOOR MB), and growth exponents (a header ending in "exponent"), within EXPONENT_SLACK.

    python docs/gen_readme.py                     # rewrite every section (slow: QEMU runs)
    python docs/gen_readme.py --only speed,cores  # just these
    python docs/gen_readme.py --check [--measured]
"""
from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
_SECTION = re.compile(r"<!-- gen:(?P<name>[\w-]+)(?P<measured> measured)? (?P<cmd>[^\n]*?) -->\n"
                      r"(?P<body>.*?)<!-- /gen:(?P=name) -->", re.S)


@dataclass(frozen=True)
class Section:
    name: str
    argv: tuple[str, ...]
    measured: bool
    body: str
    span: tuple[int, int]      # of the body in the page


def sections(text: str) -> list[Section]:
    found = []
    for m in _SECTION.finditer(text):
        argv = tuple(shlex.split(m["cmd"]))
        script = (REPO / argv[0]).resolve() if argv else None
        if script is None or script.parent != REPO / "benchmarks" or script.suffix != ".py":
            raise SystemExit(f"docs/gen_readme.py: section {m['name']!r}: the command must be a "
                             f"benchmarks/*.py script, not {m['cmd']!r}")
        found.append(Section(m["name"], argv, bool(m["measured"]), m["body"], m.span("body")))
    return found


def run(section: Section) -> str:
    proc = subprocess.run([sys.executable, *section.argv], cwd=REPO, capture_output=True,
                          text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"docs/gen_readme.py: {' '.join(section.argv)} failed "
                         f"(exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return proc.stdout if proc.stdout.endswith("\n") else proc.stdout + "\n"


TIME_FACTOR = 3.0        # timings and memory move with the machine and its load, not more
TIME_FLOOR = 0.5         # seconds under which a timing is noise
MEMORY_FLOOR = 16.0      # MB under which a peak-memory figure is noise
EXPONENT_SLACK = 0.4     # a growth exponent (log-log slope over a short ladder) moves this much


def _number(cell: str) -> float | None:
    m = re.fullmatch(r"(-?[0-9][0-9,]*(?:\.[0-9]+)?)( s| MB)?", cell.strip())
    return float(m[1].replace(",", "")) if m else None


def _kind(header: str) -> str | None:
    """What a column measures, from its header: seconds, MB or a growth exponent."""
    h = header.strip()
    return "s" if h.endswith(" s") else "MB" if h.endswith(" MB") else \
        "exponent" if h.endswith("exponent") else None


def _agree(kind: str | None, c: str, d: str) -> bool:
    if kind is None and c.strip().endswith(" s"):
        kind = "s"
    u, v = _number(c), _number(d)
    if kind is None or u is None or v is None:
        return False
    if kind == "exponent":
        return abs(u - v) <= EXPONENT_SLACK
    floor = TIME_FLOOR if kind == "s" else MEMORY_FLOOR
    return max(u, v) < floor or max(u, v) <= TIME_FACTOR * max(min(u, v), 1e-9)


def measured_differences(old: str, new: str) -> list[str]:
    """Where a rerun of a timing section differs from the committed one beyond its timings
    (see the module docstring); empty when they agree."""
    a, b = old.splitlines(), new.splitlines()
    if len(a) != len(b):
        return [f"{len(a)} lines committed, {len(b)} now"]
    bad, kinds = [], {}
    for n, (x, y) in enumerate(zip(a, b), 1):
        xs, ys = x.split("|"), y.split("|")
        if not x.startswith("|") or len(xs) != len(ys):
            if x != y and not x.startswith("|"):
                bad += [] if _prose_timing_only(x, y) else [f"line {n}: {x!r} -> {y!r}"]
            elif x != y:
                bad.append(f"line {n}: {len(xs)} cells committed, {len(ys)} now")
            continue
        if set(x) <= set("|-: "):
            continue
        if n < len(a) and set(a[n]) <= set("|-: "):       # a header: its columns' kinds
            kinds = {i: _kind(c) for i, c in enumerate(xs)}
        for i, (c, d) in enumerate(zip(xs, ys)):
            if c != d and not _agree(kinds.get(i), c, d):
                bad.append(f"line {n}, cell {i}: {c.strip()!r} -> {d.strip()!r}")
    return bad


def _prose_timing_only(x: str, y: str) -> bool:
    """Two prose lines that differ only in their timings ("17.5 s CPU", "(load 7 ...)")."""
    strip = lambda t: re.sub(r"[0-9][0-9,.]*( s| MB|\))", "#", t)  # noqa: E731
    return strip(x) == strip(y)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compare instead of writing; exit 1 naming the stale sections")
    ap.add_argument("--measured", action="store_true",
                    help="with --check: also rerun the timing sections (their shape only)")
    ap.add_argument("--only", default="", help="comma-separated section names")
    args = ap.parse_args(argv)
    text = README.read_text()
    chosen = [s for s in sections(text) if not args.only or s.name in args.only.split(",")]
    stale, out, end = [], [], 0
    for s in chosen:
        if args.check and s.measured and not args.measured:
            continue
        new = run(s)
        same = not measured_differences(s.body, new) if s.measured else new == s.body
        if args.check and not same:
            stale.append(s.name)
            print(f"--- {s.name}: committed\n{s.body}+++ {s.name}: now\n{new}", file=sys.stderr)
        out += [text[end:s.span[0]], new]
        end = s.span[1]
    if args.check:
        if stale:
            print(f"README.md stale: {', '.join(stale)} (run python docs/gen_readme.py)",
                  file=sys.stderr)
        return 1 if stale else 0
    README.write_text("".join(out) + text[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
