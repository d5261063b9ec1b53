"""One measured stage of benchmarks/scale.py, run in its own process:

    python benchmarks/scale_stages.py STAGE JSON_ARGS

Prints one JSON line: per timed step its CPU seconds (user+sys of this process and the tools
it waited for: gcc, QEMU), wall seconds, and this process's peak RSS above its RSS after the
imports (VmHWM reset through /proc/self/clear_refs, so the interpreter and the libraries are
not counted), plus facts the step found (bit-exact, instructions, ...).
"""
from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks"), str(REPO / "tests")]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def _status(key: str) -> int:
    """A /proc/self/status field in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Steps:
    """Times consecutive steps; memory is measured over all of them from the first start."""

    def __init__(self):
        self.out: dict = {"steps": {}}
        self.restart()

    def restart(self) -> None:
        """Start again from here (after a setup that is not measured)."""
        self.base = _status("VmRSS")
        try:
            Path("/proc/self/clear_refs").write_text("5")     # reset VmHWM to the RSS now
        except OSError:
            pass
        self._mark = (_cpu(), time.perf_counter())

    def lap(self, name: str, **facts) -> None:
        cpu, wall = _cpu(), time.perf_counter()
        self.out["steps"][name] = {"cpu": cpu - self._mark[0], "wall": wall - self._mark[1],
                                   **facts}
        self._mark = (_cpu(), time.perf_counter())

    def total(self, name: str) -> None:
        steps = self.out["steps"].values()
        self.out["steps"][name] = {"cpu": sum(v["cpu"] for v in steps),
                                   "wall": sum(v["wall"] for v in steps)}

    def done(self) -> None:
        self.out["peak_over_base"] = max(0, _status("VmHWM") - self.base)
        self.out["base_rss"] = self.base
        print(json.dumps(self.out))


def _imports() -> None:
    """Everything the stages import, loaded before the baseline RSS is read."""
    import jinja2  # noqa: F401

    import toolchain.api  # noqa: F401
    import toolchain.backends.c  # noqa: F401
    import toolchain.backends.tflite  # noqa: F401
    import toolchain.api.compiler  # noqa: F401
    import toolchain.report.fit  # noqa: F401
    import toolchain.fit  # noqa: F401
    import toolchain.frontends.tflite  # noqa: F401
    import toolchain.passes.partition_search  # noqa: F401
    import toolchain.quant.ptq  # noqa: F401
    import toolchain.verify.cexec  # noqa: F401
    import toolchain.verify.qemu  # noqa: F401


def compile_(a):
    from toolchain import api
    s = Steps()
    with tempfile.TemporaryDirectory() as d:
        api.compile(a["model"], a["target"], Path(d) / "out")
        s.lap("compile")
    s.done()


def check(a):
    from toolchain import api
    s = Steps()
    report = api.check(a["model"], a["target"])
    m = report.measurement
    s.lap("check", fits=bool(report.fits), note=getattr(m, "note", None))
    s.done()


def verify(a):
    """verify's steps apart: reference, host build + run, QEMU build, QEMU run, TFLite Micro."""
    from toolchain.frontends.tflite import load_tflite
    from toolchain.targets import load_target
    from toolchain.verify import cexec, qemu, qemu_build
    from toolchain.verify.executors import get_executor
    from toolchain.verify.ladder import compare, random_inputs
    from toolchain.ops.interpreter import run_graph
    s = Steps()
    graph = load_tflite(a["model"])
    exact = graph.tensors[graph.inputs[0]].dtype != "float32"    # floats: within tolerance
    same = lambda want, got: compare(want, got)["bit_exact" if exact else  # noqa: E731
                                                "within_tolerance"]
    x = random_inputs(graph, 1, seed=0)[0]
    s.lap("load")
    ref = run_graph(graph, x)
    s.lap("reference")
    cexec.build_host(graph)
    s.lap("host_build")
    host = get_executor("host")(graph, x).outputs
    s.lap("host_run", ok=same(ref, host))
    try:
        elf, emu = qemu_build.build_qemu(graph, load_target(a["target"]))
    except qemu_build.ExecutionError as exc:
        s.lap("qemu_build", error=str(exc).splitlines()[0])
    else:
        s.lap("qemu_build")
        run = qemu.run_elf(elf, emu, [v.tobytes() for v in x], len(graph.outputs),
                           timeout=1800)
        outs = [np.frombuffer(b, r.dtype).reshape(r.shape) for b, r in zip(run.outputs, ref)]
        s.lap("qemu_run", instructions=run.instructions,
              ok=run.exit_code == 0 and same(ref, outs))
    if exact:
        s.lap("tflm", ok=same(ref, get_executor("tflm")(graph, x).outputs))
    s.done()


def ptq(a):
    from scale_models import calibration

    from toolchain import api
    from toolchain.backends.tflite import write_tflite
    s = Steps()
    graph = api.load(a["model"])
    calib = calibration(a["samples"])
    s.lap("load")
    q = api.quantize(graph, calib)
    s.lap("ptq")
    if a.get("out"):
        Path(a["out"]).write_bytes(write_tflite(q))
    s.done()


def partition(a):
    from toolchain import api
    from toolchain.backends.cpartition import arena_peak, search
    s = Steps()
    graph = api.load(a["model"])
    s.lap("load")
    before = arena_peak(graph)           # as --partition auto on a RAM 60% of the arena
    found = search(graph, int(0.6 * before))
    s.lap("partition", stages=None if found is None else len(found.stages),
          peak_before=before, peak_after=None if found is None else found.peak_after)
    s.done()


def fit(a):
    from scale_models import calibration

    from toolchain import api
    s = Steps()
    calib = calibration(a["samples"])
    result = api.fit_model(a["model"], a["target"], calib, flash=a["flash"])
    s.lap("fit", ok=bool(result.ok), candidates=len(result.candidates),
          chosen=None if result.chosen is None else result.chosen.name)
    s.done()


def make(a):
    """Setup, not measured: the float and int8 .tflite of a generated model."""
    from scale_models import calibration, float_model

    from toolchain import api
    from toolchain.backends.tflite import write_tflite
    graph = float_model(a["weight_bytes"], a["ops"], itemsize=a.get("itemsize", 1))
    Path(a["float"]).write_bytes(write_tflite(graph))
    if a.get("int8"):
        q = api.quantize(graph, calibration(8))
        Path(a["int8"]).write_bytes(write_tflite(q))
    print(json.dumps({"name": graph.metadata["name"], "ops": len(graph.ops),
                      "macs": api.inspect(graph)["macs"]}))


def mobilenet(a):
    import scale_mobilenet
    s = Steps()
    getattr(scale_mobilenet, a["how"])(s, a["target"])
    s.done()


STAGES = {"compile": compile_, "check": check, "verify": verify, "ptq": ptq,
          "partition": partition, "fit": fit, "make": make, "mobilenet": mobilenet}

if __name__ == "__main__":
    _imports()
    STAGES[sys.argv[1]](json.loads(sys.argv[2]))
