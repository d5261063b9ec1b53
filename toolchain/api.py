"""The Python API; every CLI verb is a thin layer over a function here."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import ModelError, UsageError
from .ir import Graph
from .ops import registry
from .ops.registry import Node

LOADERS = {".tflite": "tflite"}


def load(source, example_inputs=None) -> Graph:
    """Load a model file (.tflite, ...) or pass a Graph through unchanged."""
    if isinstance(source, Graph):
        return source
    path = Path(source)
    kind = LOADERS.get(path.suffix.lower())
    if kind is None:
        raise ModelError(f"{path}: unsupported model format {path.suffix or '(none)'!r}; "
                         f"supported: {', '.join(sorted(LOADERS))}")
    if not path.is_file():
        raise ModelError(f"{path}: no such file")
    if kind == "tflite":
        from .frontends.tflite import load_tflite
        return load_tflite(path)
    raise AssertionError(kind)


def run(model, inputs: Sequence[np.ndarray], executor: str = "reference", **options):
    """Run one inference with the named executor; returns the RunResult (outputs, stats)."""
    from .verify.executors import get_executor
    graph = load(model)
    return get_executor(executor)(graph, list(inputs), **options)


def _tensor_info(t) -> dict:
    info = {"name": t.name, "shape": list(t.shape), "dtype": t.dtype}
    if t.quant is not None and not t.quant.per_channel:
        info.update(scale=t.quant.s, zero_point=t.quant.zp)
    return info


def activation_peak_naive(graph: Graph) -> int:
    """Max over schedule steps of the bytes of all activations live at that step (no reuse
    across overlapping lifetimes, no in-place): what a lifetime-aware planner must reach."""
    last_use = {}
    for i, op in enumerate(graph.ops):
        for name in op.inputs:
            if name:
                last_use[name] = i
    for name in graph.outputs:
        last_use[name] = len(graph.ops)
    born = {name: -1 for name in graph.inputs}
    born.update({n: i for i, op in enumerate(graph.ops) for n in op.outputs})
    peak = 0
    for step in range(len(graph.ops)):
        live = sum(graph.tensors[n].nbytes for n, b in born.items()
                   if b <= step <= last_use.get(n, b))
        peak = max(peak, live)
    return peak


def inspect(model) -> dict:
    """Ops, tensors, quantization, parameter bytes, MACs and the naive activation peak."""
    graph = load(model)
    ops = []
    for i, op in enumerate(graph.ops):
        node = Node.of(graph, op)
        ops.append({"index": i, "kind": op.kind, "inputs": [n for n in op.inputs if n],
                    "outputs": list(op.outputs), "attrs": _plain(op.attrs),
                    "macs": int(registry.get(op.kind).macs(node))})
    params = sum(t.nbytes for t in graph.tensors.values() if t.is_const)
    return {"inputs": [_tensor_info(graph.tensors[n]) for n in graph.inputs],
            "outputs": [_tensor_info(graph.tensors[n]) for n in graph.outputs],
            "ops": ops, "params_bytes": int(params), "macs": sum(o["macs"] for o in ops),
            "activation_peak_naive_bytes": activation_peak_naive(graph)}


def _plain(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def read_inputs(paths: Sequence[str]) -> list[np.ndarray]:
    arrays = []
    for p in paths:
        try:
            arrays.append(np.load(p, allow_pickle=False))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{p}: cannot read input array: {exc}") from None
    return arrays


def compile(model, target: str = "cortex-m4", out=None, fmt: str = "c",
            prefix: str = "model") -> dict:
    """Compile for a target into `out` (a directory, or a .tflite file); returns the report."""
    from .compiler import compile_c, compile_tflite
    from .targets import load_target
    graph = load(model)
    tgt = load_target(target)
    if out is None:
        raise UsageError("compile needs an output path (-o)")
    if fmt == "tflite":
        return compile_tflite(graph, tgt.name, Path(out))
    if fmt != "c":
        raise UsageError(f"unknown format {fmt!r}; supported: c, tflite")
    return compile_c(graph, tgt.name, Path(out), prefix)


def verify(model, target: str = "cortex-m4", inputs=None, random: int = 3,
           executors=None) -> dict:
    """Reference vs host C vs QEMU (and TFLite Micro for int8) on given and random inputs."""
    from .targets import load_target
    from .verify.ladder import random_inputs, verify as _verify
    graph = load(model)
    tgt = load_target(target)
    cases = ([list(inputs)] if inputs else []) + random_inputs(graph, random)
    report = _verify(graph, tgt.name, cases, executors)
    report["target"] = tgt.name
    report["stats"]["macs"] = inspect(graph)["macs"]
    return report
