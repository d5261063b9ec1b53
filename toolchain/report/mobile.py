"""`fitml check` on a mobile target (a phone running LiteRT): the .tflite `compile` writes for
it, and what LiteRT needs on this host to run it (peak resident memory, invoke time with its
default resolver: optimized kernels and XNNPACK), checked against `--flash` (an app-size budget
for the .tflite) and `--ram` (a memory budget) when given.

LiteRT runs in a child process (`python -c`, the model in a temporary file, no shell), so its
peak memory is its own: the largest resident size after allocating and after each invoke,
minus the resident size once LiteRT is imported (Linux /proc/self/statm). Host numbers, not
the phone's: the same runtime and kernels, another CPU.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..backends.tflite import write_tflite
from ..ir import Graph

SCHEMA = "fitml.mobile-fit/1"
RUNS = 10
_PROBE = r"""
import json, os, sys, time
import numpy as np
from ai_edge_litert import interpreter as litert
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
base = rss()
it = litert.Interpreter(model_path=sys.argv[1], num_threads=1,
                        experimental_op_resolver_type=litert.OpResolverType.AUTO)
it.allocate_tensors()
peak = rss()
rng = np.random.default_rng(0)
for d in it.get_input_details():
    info = np.iinfo(d["dtype"]) if np.issubdtype(d["dtype"], np.integer) else None
    x = (rng.integers(info.min, info.max + 1, d["shape"]) if info is not None
         else rng.uniform(-1, 1, d["shape"])).astype(d["dtype"])
    it.set_tensor(d["index"], x)
times = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    it.invoke()
    times.append(time.perf_counter() - t0)
    peak = max(peak, rss())
print(json.dumps({"peak_bytes": max(peak - base, 0), "times": times}))
"""


@dataclass(frozen=True)
class MobileReport:
    target: str
    model: str
    tflite_bytes: int
    peak_memory_bytes: int | None      # LiteRT's resident memory high-water mark on the host
    invoke_ms: float | None            # median of RUNS invokes on the host, one thread
    flash_budget: int | None = None    # --flash: app-size budget for the .tflite
    ram_budget: int | None = None      # --ram: memory budget
    note: str | None = None            # why LiteRT was not measured

    @property
    def fits(self) -> bool:
        if self.flash_budget is not None and self.tflite_bytes > self.flash_budget:
            return False
        if self.ram_budget is not None:
            return self.peak_memory_bytes is not None and \
                self.peak_memory_bytes <= self.ram_budget
        return True

    def verdict(self) -> str:
        over = []
        if self.flash_budget is not None and self.tflite_bytes > self.flash_budget:
            over.append(f".tflite {self.tflite_bytes:,} B over --flash {self.flash_budget:,} B")
        if self.ram_budget is not None:
            if self.peak_memory_bytes is None:
                over.append(f"LiteRT's memory not measured ({self.note}), --ram "
                            f"{self.ram_budget:,} B not checked")
            elif self.peak_memory_bytes > self.ram_budget:
                over.append(f"LiteRT peak memory {self.peak_memory_bytes:,} B over --ram "
                            f"{self.ram_budget:,} B")
        if over:
            return f"does not fit {self.target}: " + "; ".join(over)
        budgets = " and ".join(f"{k} {v:,} B" for k, v in (
            ("--flash", self.flash_budget), ("--ram", self.ram_budget)) if v is not None)
        return f"fits {self.target}" + (f" (within {budgets})" if budgets else
                                        " (no --flash / --ram budget given)")

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "fits": self.fits, "target": self.target, "model": self.model,
                "tflite_bytes": self.tflite_bytes, "peak_memory_bytes": self.peak_memory_bytes,
                "invoke_ms": self.invoke_ms, "invoke_runs": RUNS,
                "measured_on": "host, LiteRT default resolver (XNNPACK), 1 thread",
                "flash_budget": self.flash_budget, "ram_budget": self.ram_budget,
                "note": self.note, "verdict": self.verdict()}

    def render_text(self) -> str:
        peak = "not measured" if self.peak_memory_bytes is None else \
            f"{self.peak_memory_bytes:,} B"
        ms = "not measured" if self.invoke_ms is None else f"{self.invoke_ms:.3f} ms"
        lines = [f"fitml fit report: {self.model} on {self.target} (LiteRT)", "",
                 f".tflite (app size)           {self.tflite_bytes:,} B",
                 f"LiteRT peak memory (host)    {peak}",
                 f"invoke, median of {RUNS} (host) {ms}"]
        if self.note:
            lines.append(f"note: {self.note}")
        return "\n".join(lines + [f"VERDICT: {self.verdict()}"]) + "\n"

    def render_markdown(self) -> str:
        d = self.to_dict()
        rows = [(".tflite bytes", f"{self.tflite_bytes:,}"),
                ("LiteRT peak memory B (host)", d["peak_memory_bytes"] or "not measured"),
                ("invoke ms (host, median)", d["invoke_ms"] or "not measured")]
        return (f"### {self.model} on {self.target}\n\n| | |\n|---|---:|\n"
                + "".join(f"| {k} | {v} |\n" for k, v in rows)
                + f"\n**{self.verdict()}**\n")


def mobile_fit(graph: Graph, target: str, flash: int | None = None,
               ram: int | None = None, measure: bool = True) -> MobileReport:
    """The mobile fit report of `graph` on `target` (see the module docstring)."""
    blob = write_tflite(graph, metadata={"target": target,
                                         "source": graph.metadata.get("source", "")})
    name = Path(graph.metadata.get("source", "") or "model").name
    peak = ms = note = None
    if not measure:
        note = "measurement switched off"
    else:
        peak, ms, note = _measure(blob)
    return MobileReport(target, name, len(blob), peak, ms, flash, ram, note)


def _measure(blob: bytes) -> tuple[int | None, float | None, str | None]:
    with tempfile.TemporaryDirectory(prefix="fitml-litert-") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(blob)
        try:
            p = subprocess.run([sys.executable, "-c", _PROBE, str(path), str(RUNS)],
                               capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            return None, None, "LiteRT did not finish within 600 s"
    if p.returncode != 0:
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        return None, None, "LiteRT failed: " + (lines[-1][:200] if lines else
                                                f"exit {p.returncode}")
    d = json.loads(p.stdout.strip().splitlines()[-1])
    times = sorted(d["times"])
    return int(d["peak_bytes"]), round(1000 * times[len(times) // 2], 4), None
