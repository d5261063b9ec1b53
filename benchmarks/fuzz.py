"""Fuzz fitml's model loading and compiling: N mutated models per format through `fitml
inspect`, a sample of the accepted ones through `fitml check --target cortex-m4` (gcc, QEMU),
each under a 2 GB memory budget and a 60 s timeout, in a fork server (tests/fuzz_harness.py).

Prints, per format: cases | checked (check runs) | ok | clean errors | internal | traceback |
signal | timeout | oom | exec (the model's code ran) | max s | max MB (peak RSS above the fork
server's), then what inspect accepted although the model was corrupted (in weight data only?
does the reference executor run it to finite outputs?), then each failure class once with a
case that reproduces it, its mutation, the last stderr lines and the FITML_DEBUG traceback.

    .venv/bin/python benchmarks/fuzz.py [N] [--formats tflite,onnx,h5,keras,pt2] [--seed S]
        [--jobs J] [--check K] [--repro FMT:SEED [--out FILE]]

Case k of a run with --seed S is seed S+k; `--repro h5:17` writes that case's model and
prints the two commands.
"""
from __future__ import annotations

import argparse
import collections
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from fuzz_harness import FAILURES, Fuzzer, failure_key, failure_report  # noqa: E402

COLUMNS = ("format", "cases", "checked", "ok", "clean errors", "internal", "traceback",
           "signal", "timeout", "oom", "exec", "max s", "max MB")
OUTCOME_COLUMN = {"ok": "ok", "clean-error": "clean errors", "internal": "internal",
                  "traceback": "traceback", "signal": "signal", "timeout": "timeout",
                  "oom": "oom", "exec": "exec"}


def table(rows: list[list]) -> str:
    cells = [list(COLUMNS)] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    lines = [" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                        enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def format_row(fmt: str, cases) -> list:
    counts = collections.Counter(c.outcome for c in cases)
    runs = [run for c in cases for _, _, run in c.runs.values()]
    return [fmt, len(cases), sum("check" in c.runs for c in cases)] + \
        [counts[o] for o in OUTCOME_COLUMN] + \
        [f"{max(r.seconds for r in runs):.1f}", f"{max(r.rss_mb for r in runs):.0f}"]


def accepted_summary(fmt: str, cases) -> str:
    sane = [c for c in cases if c.sanity is not None]
    insane = [c for c in sane if not c.sanity["sane"]]
    weights_only = sum(c.mutation.in_weights for c in sane)
    line = (f"{fmt}: inspect accepted {len(sane)} corrupted models ({weights_only} changed "
            f"only weight data); reference run not sane on {len(insane)}")
    for c in insane[:5]:
        line += (f"\n    seed {c.seed} ({'weights' if c.mutation.in_weights else 'structure'}"
                 f"): {c.sanity['why']} <- {c.mutation.description[:120]}")
    return line


def failure_classes(fuzzer: Fuzzer, all_cases) -> str:
    classes = collections.OrderedDict()
    for c in all_cases:
        for verb, (outcome, _, _) in c.runs.items():
            if outcome in FAILURES:
                classes.setdefault(failure_key(c, verb), []).append((c, verb))
    out = []
    for (fmt, outcome, _), hits in classes.items():
        case, verb = hits[0]
        text = f"{len(hits)} x " + failure_report(case, verb)
        fresh, why = fuzzer.confirm(case, verb)
        text += f"\n    a fresh fitml process: {fresh} ({why})"
        if outcome == "internal" and "internal error" in case.runs[verb][2].stderr:
            text += "\n    FITML_DEBUG=1: " + traceback_tail(fuzzer.debug_traceback(case, verb))
        out.append(text)
    return "\n".join(out) if out else "(none)"


def traceback_tail(stderr: str) -> str:
    """The innermost three frames, as file:line function, innermost first."""
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', stderr)
    return " <- ".join(f"{Path(f).name}:{n} {fn}" for f, n, fn in frames[-3:][::-1])


def repro(fuzzer: Fuzzer, spec: str, out: str | None) -> None:
    fmt, seed = spec.split(":")
    case = fuzzer.make_case(fmt, int(seed))
    path = Path(out) if out else case.path
    if out:
        path.write_bytes(case.mutation.data)
    print(f"{spec}: {case.seed_model} mutated by: {case.mutation.description}")
    print(f"  in weights only: {case.mutation.in_weights}; code marker: {case.mutation.marker}")
    print(f"  fitml inspect {path}\n  fitml check {path} --target cortex-m4")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("n", type=int, nargs="?", default=100, help="cases per format (100)")
    p.add_argument("--formats", default="tflite,onnx,h5,keras,pt2")
    p.add_argument("--seed", type=int, default=0, help="first case seed")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--check", type=int, default=None, metavar="K",
                   help="check at most K accepted cases per format (default: all)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--workdir", help="keep cases here (default: a temporary directory)")
    p.add_argument("--repro", metavar="FMT:SEED")
    p.add_argument("--out", help="with --repro: write the model here")
    args = p.parse_args(argv)
    formats = [args.repro.split(":")[0]] if args.repro else args.formats.split(",")
    with tempfile.TemporaryDirectory(prefix="fitml-fuzz-") as tmp:
        fuzzer = Fuzzer(Path(args.workdir or tmp), formats, jobs=args.jobs,
                        timeout=args.timeout)
        if args.repro:
            repro(fuzzer, args.repro, args.out)
            return 0
        rows, everything, notes = [], [], []
        for fmt in formats:
            start = time.monotonic()
            cases = fuzzer.run(fmt, range(args.seed, args.seed + args.n), args.check)
            print(f"{fmt}: {len(cases)} cases in {time.monotonic() - start:.0f} s",
                  file=sys.stderr)
            rows.append(format_row(fmt, cases))
            everything += cases
            notes.append(accepted_summary(fmt, cases))
        print(table(rows))
        print("\nAccepted although corrupted:")
        print("\n".join(notes))
        print("\nFailure classes (count x first case):")
        print(failure_classes(fuzzer, everything))
    return 0


if __name__ == "__main__":
    sys.exit(main())
