"""The fuzz runner: mutate seed models, run `fitml inspect` on every case and `fitml check
--target cortex-m4` on a sample of those inspect accepted, all in the fork server under a
memory limit and a timeout, and classify each run.

Outcomes: ok (exit 0/1), clean-error (exit 2, one stderr line naming the file), internal (an
"internal error", a multi-line or unnamed error, another exit code), traceback, signal,
timeout, oom, exec (the model's code ran: its marker file appeared). When inspect accepts a
corrupted model, the case also records whether the reference executor runs it on random
inputs to finite outputs ("sane") and whether every changed byte lay in weight data.
"""
from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fuzz_forkserver import ForkServer, Run, cli_target
from fuzz_mutators import Mutation, mutate, weight_ranges
from fuzz_seeds import build_seeds

SEVERITY = ("exec", "signal", "oom", "timeout", "traceback", "internal", "clean-error", "ok")
FAILURES = SEVERITY[:6]
OOM_TEXT = ("MemoryError", "bad_alloc", "Unable to allocate", "Cannot allocate memory",
            "out of memory")
TARGET = "cortex-m4"


@dataclass
class Case:
    fmt: str
    seed: int
    seed_model: str
    mutation: Mutation
    path: Path
    runs: dict = field(default_factory=dict)        # verb -> (outcome, reason, Run)
    sanity: dict | None = None

    @property
    def outcome(self) -> str:
        return min((o for o, _, _ in self.runs.values()), key=SEVERITY.index, default="ok")

    def argv(self, verb: str) -> list[str]:
        return ["inspect", str(self.path)] if verb == "inspect" else \
            ["check", str(self.path), "--target", TARGET]


def classify(run: Run, path: Path, marker: str | None) -> tuple[str, str]:
    """(outcome, reason) of one run of fitml on the model at `path`."""
    err = run.stderr.strip()
    lines = err.splitlines()
    if marker and Path(marker).exists():
        return "exec", f"the model's code ran (created {marker})"
    if run.timed_out:
        return "timeout", f"killed after {run.seconds:.0f} s"
    if any(t in err for t in OOM_TEXT):
        return "oom", "allocation failed under the memory limit"
    if run.returncode < 0:
        return "signal", f"killed by signal {-run.returncode}"
    if "Traceback (most recent call last)" in err:
        return "traceback", "a Python traceback on stderr"
    if "internal error" in err:
        return "internal", "internal error"
    if run.returncode in (0, 1):
        return "ok", f"exit {run.returncode}"
    if run.returncode != 2:
        return "internal", f"exit code {run.returncode}"
    if len(lines) != 1:
        return "internal", f"{len(lines)} stderr lines"
    if str(path) not in err and path.name not in err:
        return "internal", "the error does not name the file"
    return "clean-error", "one line naming the file"


def sanity_target(path: Path):
    """A fork-server target: load the model, run the reference executor on seeded random
    inputs, write {"sane": bool, "why": str} to stdout."""
    def target() -> int:
        from toolchain import api
        from toolchain.errors import FitmlError
        try:
            graph = api.load(str(path))
            rng = np.random.default_rng(0)
            inputs = []
            for name in graph.inputs:
                t = graph.tensors[name]
                if t.size > 10**7:
                    return _say(False, f"input {name} has {t.size} elements")
                if np.issubdtype(np.dtype(t.dtype), np.integer):
                    info = np.iinfo(t.dtype)
                    x = rng.integers(info.min, info.max, t.shape, endpoint=True)
                else:
                    x = rng.normal(0, 1, t.shape)
                inputs.append(x.astype(t.dtype))
            outs = api.run(graph, inputs, executor="reference").outputs
            bad = [i for i, o in enumerate(outs) if not np.all(np.isfinite(o))]
            return _say(not bad, f"outputs {bad} not finite" if bad else "finite outputs")
        except FitmlError as exc:
            return _say(True, f"run refused: {str(exc)[:150]}")
        except Exception as exc:
            return _say(False, f"run raised {type(exc).__name__}: {str(exc)[:150]}")
    return target


def _say(sane: bool, why: str) -> int:
    print(json.dumps({"sane": sane, "why": why}))
    return 0


class Fuzzer:
    """Cases of every format against one fork server; seeds built once in `workdir`."""

    def __init__(self, workdir: Path, formats, jobs: int = 2, timeout: float = 60.0,
                 mem_budget: int = 2 << 30, seeds_dir: Path | None = None):
        self.workdir, self.formats = Path(workdir), tuple(formats)
        self.seeds = build_seeds(Path(seeds_dir or self.workdir / "seeds"), self.formats)
        self.server = ForkServer(timeout=timeout, mem_budget=mem_budget, jobs=jobs)
        self.ranges, self.warmed = {}, set()

    def warm(self, fmt: str) -> None:
        """Import what inspect and check of a `fmt` seed need, once, into the server."""
        if fmt not in self.warmed:
            seed = str(self.seeds[fmt][0])
            self.server.warm(fmt, [["inspect", seed], ["check", seed, "--target", TARGET]],
                             self.workdir / f"warm-{fmt}")
            self.warmed.add(fmt)

    def make_case(self, fmt: str, seed: int) -> Case:
        """Case `seed` of `fmt`: the mutated model written to its own directory."""
        seed_path = self.seeds[fmt][seed % len(self.seeds[fmt])]
        data = seed_path.read_bytes()
        if seed_path not in self.ranges:
            self.ranges[seed_path] = weight_ranges(fmt, data)
        mutation = mutate(fmt, data, seed, self.ranges[seed_path])
        case_dir = self.workdir / "cases" / f"{fmt}-{seed}"
        shutil.rmtree(case_dir, ignore_errors=True)
        case_dir.mkdir(parents=True)
        path = case_dir / f"model.{fmt}"
        path.write_bytes(mutation.data)
        return Case(fmt, seed, seed_path.name, mutation, path)

    def run(self, fmt: str, seeds, check_sample: int | None = None,
            sanity: bool = True, env: dict | None = None) -> list[Case]:
        """Inspect every case; then check up to `check_sample` cases inspect accepted (all
        when None) and the sanity run on every accepted case whose bytes changed."""
        self.warm(fmt)
        cases = [self.make_case(fmt, s) for s in seeds]
        self._stage(cases, "inspect", env)
        accepted = [c for c in cases if c.runs["inspect"][2].returncode == 0]
        changed = [c for c in accepted if c.mutation.data != self.seeds[fmt][
            c.seed % len(self.seeds[fmt])].read_bytes()]
        sample = accepted if check_sample is None else random.Random(fmt).sample(
            accepted, min(check_sample, len(accepted)))
        self._stage(sorted(sample, key=lambda c: c.seed), "check", env)
        if sanity and changed:
            results = self.server.run_many([(c.seed, sanity_target(c.path), c.path.parent)
                                            for c in changed])
            for c in changed:
                c.sanity = _parse_sanity(results[c.seed])
        for c in cases:
            _clear_marker(c.mutation.marker)
        return cases

    def _stage(self, cases: list[Case], verb: str, env: dict | None) -> None:
        for c in cases:
            _clear_marker(c.mutation.marker)
        results = self.server.run_many([(c.seed, cli_target(c.argv(verb), env), c.path.parent)
                                        for c in cases])
        for c in cases:
            run = results[c.seed]
            c.runs[verb] = (*classify(run, c.path, c.mutation.marker), run)

    def confirm(self, case: Case, verb: str) -> tuple[str, str]:
        """(outcome, reason) of the case rerun by a fresh `fitml` process, not a fork: shows
        that a failure is fitml's and not the fork server's."""
        _clear_marker(case.mutation.marker)
        limit = self.server.mem_budget + (3 << 30)   # + what the libraries map (~2.5 GB)
        start = time.monotonic()
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("fitml")), *case.argv(verb)],
            cwd=case.path.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
        try:
            out, err = proc.communicate(timeout=self.server.timeout)
            run = Run(proc.returncode, time.monotonic() - start, 0, out, err)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            run = Run(-9, time.monotonic() - start, 0, out, err, timed_out=True)
        verdict = classify(run, case.path, case.mutation.marker)
        _clear_marker(case.mutation.marker)
        return verdict

    def debug_traceback(self, case: Case, verb: str) -> str:
        """The case rerun with FITML_DEBUG=1: the traceback behind an internal error."""
        run = self.server.run_cli(case.argv(verb), case.path.parent, {"FITML_DEBUG": "1"})
        return run.stderr


def _parse_sanity(run: Run) -> dict:
    if run.timed_out or run.returncode != 0:
        why = "timed out" if run.timed_out else f"exit {run.returncode}"
        return {"sane": False, "why": f"reference run {why}: {run.stderr.strip()[-150:]}"}
    try:
        return json.loads(run.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"sane": False, "why": f"no verdict: {run.stderr.strip()[-150:]}"}


def _clear_marker(marker: str | None) -> None:
    if marker:
        shutil.rmtree(marker, ignore_errors=True)


def failure_key(case: Case, verb: str) -> tuple:
    """Failures that differ only in paths, numbers and quoted names are one class."""
    outcome, reason, run = case.runs[verb]
    last = (run.stderr.strip().splitlines() or [reason])[-1]
    last = last.replace(str(case.path), "FILE")
    last = re.sub(r"'[^']*'", "'…'", last)
    last = re.sub(r"\d+", "N", last)
    return case.fmt, outcome, last[:160]


def failure_report(case: Case, verb: str) -> str:
    outcome, reason, run = case.runs[verb]
    tail = "\n    ".join(run.stderr.strip().splitlines()[-4:])
    return (f"[{case.fmt} seed {case.seed}] {verb}: {outcome} ({reason}) on {case.seed_model}"
            f" mutated by: {case.mutation.description}\n    {tail}")
