"""The API's core: load, run, inspect and quantize models (toolchain/api/__init__.py
re-exports these with compile, verify, check, report and fit_model)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError, UsageError
from ..frontends.keras import load_keras
from ..frontends.onnx import load_onnx
from ..frontends.tflite import load_tflite
from ..frontends.torch_export import load_torch
from ..ir import Graph
from ..ops import registry
from ..ops.interpreter import state_names
from ..ops.registry import Node
from ..passes.input_layout import with_input_layout
from ..passes.schedule import live_peak
from ..quant.ptq import quantize as _quantize
from ..verify.executors import get_executor
from ..util.arrays import load_arrays

__all__ = ["LOADERS", "activation_peak_naive", "inspect", "load", "quantize", "read_inputs",
           "run"]

LOADERS = {".tflite": "tflite", ".onnx": "onnx", ".pt2": "torch", ".h5": "keras",
           ".keras": "keras"}


def _is_torch_object(source) -> bool:
    """A torch.nn.Module or ExportedProgram (torch is never imported just to check)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(
        source, (torch.nn.Module, torch.export.ExportedProgram))


def load(source, example_inputs=None, input_shapes=None, input_layout=None) -> Graph:
    """Load a model file (.tflite, .onnx, ...), a torch module with its example inputs (as
    `load(module, inputs)` or `load((module, inputs))`), or pass a Graph through unchanged.

    input_shapes: {input name: shape} for dynamic dims (.onnx; rank-4 shapes are NHWC).
    input_layout: "nhwc" makes an NCHW input that the model transposes to NHWC first an NHWC
    input, without the TRANSPOSE (passes/input_layout.py); None keeps the model's inputs.
    """
    if input_layout is not None:
        return with_input_layout(load(source, example_inputs, input_shapes), input_layout)
    if isinstance(source, Graph):
        return source
    if isinstance(source, tuple) and len(source) == 2 and _is_torch_object(source[0]):
        if example_inputs is not None:
            raise UsageError("load((module, inputs)) takes its example inputs in the tuple; "
                             "do not pass example_inputs as well")
        source, example_inputs = source
    if _is_torch_object(source):  # torch: see frontends/torch_export.py (rank-4 I/O is NHWC)
        return load_torch(source, example_inputs)
    path = Path(source)
    kind = LOADERS.get(path.suffix.lower())
    if kind is None:
        raise ModelError(f"{path}: unsupported model format {path.suffix or '(none)'!r}; "
                         f"supported: {', '.join(sorted(LOADERS))}")
    if not path.is_file():
        raise ModelError(f"{path}: no such file")
    if input_shapes and kind not in ("onnx", "keras"):
        raise UsageError(f"{path}: --input-shape (input_shapes) applies to .onnx and "
                         f".h5/.keras models only; a {path.suffix} model's input shapes are "
                         "fixed in the file")
    if kind == "tflite":
        return load_tflite(path)
    if kind == "onnx":
        return load_onnx(path, input_shapes=input_shapes)
    if kind == "torch":
        return load_torch(path)
    if kind == "keras":
        return load_keras(path, input_shapes=input_shapes)
    raise AssertionError(kind)


def run(model, inputs: Sequence[np.ndarray], executor: str = "reference", **options):
    """Run one inference with the named executor; returns the RunResult (outputs, stats)."""
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
    return live_peak(graph)


def inspect(model) -> dict:
    """Ops, tensors, quantization, parameter bytes, MACs and the naive activation peak."""
    graph = load(model)
    ops = []
    for i, op in enumerate(graph.ops):
        node = Node.of(graph, op)
        ops.append({"index": i, "kind": op.kind, "inputs": [n for n in op.inputs if n],
                    "outputs": list(op.outputs), "attrs": _plain(op.attrs),
                    "macs": int(registry.get(op.kind).macs(node))})
    state = state_names(graph)
    params = sum(t.nbytes for t in graph.tensors.values() if t.is_const and t.name not in state)
    return {"inputs": [_tensor_info(graph.tensors[n]) for n in graph.inputs],
            "outputs": [_tensor_info(graph.tensors[n]) for n in graph.outputs],
            "ops": ops, "params_bytes": int(params), "macs": sum(o["macs"] for o in ops),
            "state_bytes": int(sum(graph.tensors[n].nbytes for n in state)),
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
    """One array per .npy file; an .npz file gives its arrays in file order."""
    arrays = []
    for p in paths:
        data = load_arrays(p, "input array")
        arrays.extend(data.values() if isinstance(data, dict) else [data])
    return arrays


def quantize(model, calib, observer: str = "minmax", io: str = "int8",
             per_channel: bool = True, progress: bool | None = None,
             activations="int8") -> Graph:
    """Post-training int8 quantization of a float model on calibration data `calib`
    (a directory or .npy/.npz file, an iterable of input lists, or collected statistics).
    activations: "int8", "int16" (16x8 everywhere) or {layer: "int16"} (quant/mixed.py)."""
    return _quantize(load(model), calib, observer=observer, io=io, per_channel=per_channel,
                     progress=progress, activations=activations)

