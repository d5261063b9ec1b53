"""How benchmarks/scale.py measures: every stage in a fresh process (scale_stages.py) with its
own empty build cache, timed by CPU (user + sys of the process and the tools it waits for) and
wall clock; the generated models of a ladder; the warm-cache check."""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MB = 1_000_000


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Runner:
    """Runs stages in fresh processes, each with its own empty build cache."""

    def __init__(self, work: Path, target: str, verbose: bool):
        self.work, self.target, self.verbose = work, target, verbose

    def stage(self, stage: str, args: dict, timeout: float = 7200) -> dict:
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=self.work))
        env = dict(os.environ, FITML_CACHE=str(cache))
        start, before = time.perf_counter(), _children_cpu()
        proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "scale_stages.py"),
                               stage, json.dumps(args)], capture_output=True, env=env,
                              text=True, timeout=timeout, check=False)
        out, err = proc.stdout, proc.stderr
        shutil.rmtree(cache, ignore_errors=True)
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            tail = (err.strip().splitlines() or ["no output"])[-1]
            print(f"  ! {stage} {args.get('model', '')}: {tail}", file=sys.stderr)
            return {"error": tail}
        result = json.loads(lines[-1])
        result["process_wall"] = time.perf_counter() - start
        result["process_cpu"] = _children_cpu() - before     # one child at a time: its own
        if self.verbose:
            print(f"  {stage} {Path(args.get('model', args.get('how', ''))).name}: "
                  + ", ".join(f"{k} {v['cpu']:.2f}s" for k, v in result["steps"].items()),
                  file=sys.stderr, flush=True)
        return result


def make_models(run: Runner, ladder: str, sizes, ops_of, mb_of, itemsize=1) -> list[dict]:
    """Generate each model of a ladder as .tflite (float, and int8 for itemsize 1)."""
    models = []
    for size in sizes:
        mb, ops = mb_of(size), ops_of(size)
        stem = run.work / f"{ladder}_{size}"
        args = {"weight_bytes": int(mb * MB), "ops": ops, "itemsize": itemsize,
                "float": f"{stem}_float.tflite"}
        if itemsize == 1:
            args["int8"] = f"{stem}_int8.tflite"
        proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "scale_stages.py"),
                               "make", json.dumps(args)], capture_output=True, text=True,
                              check=True)
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        model = args["int8"] if itemsize == 1 else args["float"]
        models.append(dict(info, size=size, model=model, float=args["float"],
                           file_bytes=Path(model).stat().st_size, mb=mb))
    return models


def measure(run: Runner, model: dict, stages, verify: bool, partition: bool) -> dict:
    rows = {}
    for stage in stages:
        if stage == "verify" and not verify:
            continue
        if stage == "partition" and not partition:
            continue
        rows[stage] = run.stage(stage, {"model": model["model"], "target": run.target})
    return rows


def warm_check(run: Runner, model: str) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=run.work))
    env = dict(os.environ, FITML_CACHE=str(cache))
    cmd = [sys.executable, str(REPO / "benchmarks" / "scale_stages.py"), "check",
           json.dumps({"model": model, "target": run.target})]
    subprocess.run(cmd, env=env, capture_output=True, check=True)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    shutil.rmtree(cache, ignore_errors=True)
    return json.loads(out.strip().splitlines()[-1])
