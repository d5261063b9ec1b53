"""`fitml verify`: the verification ladder on one model — reference vs host C vs QEMU vs TFLM."""
from __future__ import annotations

import importlib.util
from typing import Sequence

import numpy as np

from ..errors import FitmlError
from ..ir import Graph, Node
from ..ops.hybrid import is_hybrid
from ..util.progress import progress_bar
from .executors import get_executor

FLOAT_TOLERANCE = 1e-5      # relative to the reference output's range
OPTIONAL = {"tflm": ("tflite_micro", "tflm")}   # executor -> (module it needs, fitml extra)


def unavailable(name: str, graph: Graph | None = None) -> str | None:
    """Why executor `name` cannot run here (an optional package missing) or on `graph`
    (TFLite Micro has no hybrid kernels), else None."""
    if name == "tflm" and graph is not None and any(
            is_hybrid(Node.of(graph, op)) for op in graph.ops):
        return "TFLite Micro has no hybrid (float activations, int8 weights) kernels"
    module, extra = OPTIONAL.get(name, (None, None))
    if module is None or importlib.util.find_spec(module) is not None:
        return None
    return f"{module} not installed: pip install 'fitml[{extra}]'"


def random_inputs(graph: Graph, count: int, seed: int = 0) -> list[list[np.ndarray]]:
    """Seeded inputs over the full int8 range (or standard normal floats)."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        case = []
        for name in graph.inputs:
            t = graph.tensors[name]
            if t.dtype == "float32":
                case.append(rng.normal(0, 1, t.shape).astype(np.float32))
            else:
                info = np.iinfo(t.dtype)
                case.append(rng.integers(info.min, info.max + 1, t.shape).astype(t.dtype))
        cases.append(case)
    return cases


def compare(expected: Sequence[np.ndarray], actual: Sequence[np.ndarray]) -> dict:
    """Exact for integers; relative tolerance for floats. max_abs_diff over all outputs."""
    worst, exact, within = 0.0, True, True
    for e, a in zip(expected, actual):
        diff = np.abs(e.astype(np.float64) - a.astype(np.float64))
        worst = max(worst, float(diff.max()) if diff.size else 0.0)
        exact &= bool(np.array_equal(e, a))
        if e.dtype.kind == "f":
            span = max(float(np.ptp(e)) if e.size else 0.0, float(np.abs(e).max()), 1e-6)
            within &= bool(diff.max() <= FLOAT_TOLERANCE * span) if diff.size else True
        else:
            within &= bool(np.array_equal(e, a))
    return {"bit_exact": exact, "within_tolerance": within, "max_abs_diff": worst}


def verify(graph: Graph, target: str, cases: list[list[np.ndarray]],
           executors: Sequence[str] | None = None) -> dict:
    """Run every executor on every case against the reference; stats come from QEMU.
    Integer outputs must be bit-exact; float ones within FLOAT_TOLERANCE (TFLite Micro's
    float kernels included)."""
    quantized = any(graph.tensors[n].dtype != "float32" for n in graph.inputs)
    if executors is None:
        executors = ["host", "qemu", "tflm"]
    reference = get_executor("reference")
    skipped = {name: why for name in executors if (why := unavailable(name, graph))}
    executors = [name for name in executors if name not in skipped]
    results = {name: {"bit_exact": True, "within_tolerance": True, "max_abs_diff": 0.0}
               for name in executors}
    stats: dict = {}
    for inputs in progress_bar(cases, None, "verify"):
        expected = reference(graph, inputs).outputs
        for name in executors:
            opts = {"target": target} if name == "qemu" else {}
            try:
                run = get_executor(name)(graph, inputs, **opts)
            except FitmlError as exc:
                results[name].update(bit_exact=False, within_tolerance=False,
                                     error=str(exc).splitlines()[0])
                continue
            if name == "qemu" and not stats:
                stats = dict(run.stats)
            c = compare(expected, run.outputs)
            r = results[name]
            r["bit_exact"] &= c["bit_exact"]
            r["within_tolerance"] &= c["within_tolerance"]
            r["max_abs_diff"] = max(r["max_abs_diff"], c["max_abs_diff"])
    ok = all(r["bit_exact"] if quantized else r["within_tolerance"] for r in results.values())
    exact = all(r["bit_exact"] for r in results.values())
    results.update({name: {"skipped": why} for name, why in skipped.items()})
    return {"bit_exact": exact, "ok": ok, "cases": len(cases), "executors": results,
            "stats": stats}
