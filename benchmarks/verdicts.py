"""Does `fitml check` say what the board build does? Every shared model x every board, and RAM /
flash sizes just above and below each verdict's boundary: `check` (exit 0 fits, 1 does not)
against `verify --target BOARD` (the board-sized harness links and runs bit-exact under QEMU:
exit 0; exit 1 it does not fit or is not exact). Prints the disagreements (target: 0).

    python benchmarks/verdicts.py [--jobs N] [--models GLOB] [--boards GLOB] [--no-sweep]
                                  [--json OUT.json] [--models-dir DIR] [MODEL ...]

Both verbs run as the user runs them (the `fitml` CLI, one process per call) in a process
pool. The boundary: the main RAM / flash region's bytes used in the first check, +-`--margin`
bytes (cases already decided, e.g. the model does not fit at all, are not swept).
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = Path(os.environ.get("FITML_SHARED_MODELS", ROOT.parent / "shared" / "models"))
FITML = [str(Path(sys.executable).parent / "fitml")]
SUFFIXES = (".tflite", ".onnx")


@dataclass(frozen=True)
class Case:
    model: str
    board: str
    ram: int | None = None
    flash: int | None = None

    def flags(self) -> list[str]:
        return ([f"--ram={self.ram}"] if self.ram else []) + \
            ([f"--flash={self.flash}"] if self.flash else [])

    def label(self) -> str:
        sizes = " ".join(f"{k}={v:,}" for k, v in (("ram", self.ram), ("flash", self.flash)) if v)
        return f"{Path(self.model).name} on {self.board}" + (f" ({sizes})" if sizes else "")


@dataclass
class Outcome:
    case: Case
    check_rc: int
    verify_rc: int
    check_line: str
    verify_line: str
    ram_used: int | None = None
    flash_used: int | None = None
    seconds: float = 0.0

    @property
    def agrees(self) -> bool:
        return self.check_rc in (0, 1) and self.check_rc == self.verify_rc


def _run(args: list[str], timeout: float) -> tuple[int, str, str]:
    try:
        p = subprocess.run(FITML + args, capture_output=True, text=True, timeout=timeout,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {timeout:.0f} s"
    return p.returncode, p.stdout, p.stderr


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:240] if lines else ""


def run_case(case: Case, timeout: float = 900.0) -> Outcome:
    """check, then verify, of one case (a subprocess each)."""
    t0 = time.time()
    rc, out, err = _run(["check", case.model, "--target", case.board, "--format", "json",
                         *case.flags()], timeout)
    ram = flash = None
    line = _last_line(err)
    try:
        rep = json.loads(out)
        line = rep["verdict"][:240]
        main = {kind: next(r for r in rep["regions"] if r["kind"] == kind)
                for kind in ("ram", "flash")}
        ram, flash = main["ram"]["used"], main["flash"]["used"]
    except (ValueError, KeyError, StopIteration):
        pass
    vrc, vout, verr = _run(["verify", case.model, "--target", case.board, "--random", "1",
                            *case.flags()], timeout)
    vline = _last_line(verr) if vrc else "links and runs bit-exact"
    return Outcome(case, rc, vrc, line, vline, ram, flash, time.time() - t0)


def shared_models(directory: Path, pattern: str) -> list[str]:
    return sorted(str(p) for p in directory.rglob("*") if p.suffix in SUFFIXES
                  and fnmatch.fnmatch(p.name, pattern))


def boards(pattern: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / "targets" / "boards").glob("*.toml")
                  if fnmatch.fnmatch(p.stem, pattern))


def sweep(first: Outcome, margin: int) -> list[Case]:
    """Cases just above and below the main RAM and flash boundaries of a first check."""
    if first.check_rc not in (0, 1) or first.ram_used is None:
        return []
    c = first.case
    out = []
    for used, key in ((first.ram_used, "ram"), (first.flash_used, "flash")):
        for size in (used + margin, used - margin):
            if size > 0:
                out.append(Case(c.model, c.board, **{key: size}))
    return out


def table(rows: list[Outcome]) -> str:
    verdict = {0: "fits", 1: "no", 2: "error", 124: "timeout"}
    head = ["case", "check", "build", "check says", "build says"]
    body = [[o.case.label(), verdict.get(o.check_rc, f"rc {o.check_rc}"),
             verdict.get(o.verify_rc, f"rc {o.verify_rc}"), o.check_line[:90],
             o.verify_line[:90]] for o in rows]
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    fmt = lambda r: "  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in body])


def run_all(cases: list[Case], jobs: int) -> list[Outcome]:
    if jobs <= 1:
        return [run_case(c) for c in cases]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(run_case, cases))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="*", help="model files (default: the shared models)")
    ap.add_argument("--models-dir", type=Path, default=MODELS)
    ap.add_argument("--models", default="*", help="file name glob over the shared models")
    ap.add_argument("--boards", default="*", help="board name glob (targets/boards/)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--margin", type=int, default=256, help="bytes either side of a boundary")
    ap.add_argument("--no-sweep", action="store_true", help="only each board's own sizes")
    ap.add_argument("--json", type=Path, help="write every outcome here")
    args = ap.parse_args(argv)
    models = args.model or shared_models(args.models_dir, args.models)
    cases = [Case(m, b) for m in models for b in boards(args.boards)]
    t0 = time.time()
    done = run_all(cases, args.jobs)
    if not args.no_sweep:
        done += run_all([s for o in done for s in sweep(o, args.margin)], args.jobs)
    bad = [o for o in done if not o.agrees]
    print(f"{len(done)} cases ({len(models)} models x {len(cases) // max(len(models), 1)} "
          f"boards + boundary sweeps), {time.time() - t0:.0f} s; "
          f"{len(bad)} disagreements between check and the board-sized build")
    if bad:
        print(table(bad))
    if args.json:
        args.json.write_text(json.dumps([dict(asdict(o), agrees=o.agrees) for o in done],
                                        indent=1) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
