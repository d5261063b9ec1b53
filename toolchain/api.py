"""The Python API; every CLI verb is a thin layer over a function here."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import ModelError, UsageError
from .ir import Graph
from .ops import registry
from .ops.registry import Node

LOADERS = {".tflite": "tflite", ".onnx": "onnx", ".pt2": "torch", ".h5": "keras",
           ".keras": "keras"}


def _is_torch_object(source) -> bool:
    """A torch.nn.Module or ExportedProgram (torch is never imported just to check)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(
        source, (torch.nn.Module, torch.export.ExportedProgram))


def load(source, example_inputs=None, input_shapes=None) -> Graph:
    """Load a model file (.tflite, .onnx, ...) or pass a Graph through unchanged.

    input_shapes: {input name: shape} for dynamic dims (.onnx; rank-4 shapes are NHWC).
    """
    if isinstance(source, Graph):
        return source
    if _is_torch_object(source):  # torch: see frontends/torch_export.py (rank-4 I/O is NHWC)
        from .frontends.torch_export import load_torch
        return load_torch(source, example_inputs)
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
    if kind == "onnx":
        from .frontends.onnx import load_onnx
        return load_onnx(path, input_shapes=input_shapes)
    if kind == "torch":
        from .frontends.torch_export import load_torch
        return load_torch(path)
    if kind == "keras":
        from .frontends.keras import load_keras
        return load_keras(path, input_shapes=input_shapes)
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
    from .passes.schedule import live_peak
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


def compile(model, target: str = "cortex-m4", out=None, fmt: str | None = None,
            prefix: str = "model", calib=None, observer: str = "minmax", io: str = "int8",
            val=None, progress: bool | None = None, partition="auto", int16=None,
            ram=None) -> dict:
    """Compile for a target into `out` (a directory, or a .tflite file); returns the report.

    A float model with `calib` data is quantized to int8 first; `val` (an .npz with the model
    inputs and optional `labels`) adds a float-vs-int8 accuracy report. `partition` ("auto",
    "off" or a grid "NxM"): patch-based execution of the first layers when the layer-by-layer
    activations do not fit the target's RAM (C format only; report key `partition`).
    `int16`: int16 activations (TFLite's 16x8) for "all" layers, for the named layers
    ("L1,L2" or a list), or "auto" (quant/promote.py: the noisiest layers while the RAM budget,
    `ram` or the target's main RAM, holds and the measured SNR gain is worth it); report key
    `int16`."""
    from .compiler import compile_c, compile_tflite
    from .targets import load_target
    graph = load(model)
    tgt = load_target(target)
    if out is None:
        raise UsageError("compile needs an output path (-o)")
    fmt = fmt or tgt.default_format
    if tgt.kind == "mobile" and fmt != "tflite":
        raise UsageError(f"{tgt.name} is a mobile target: it takes --format tflite")
    if fmt not in ("c", "tflite"):
        raise UsageError(f"unknown format {fmt!r}; supported: c, tflite")
    accuracy = None
    if calib is not None:
        float_graph = graph
        acts, calib, info = _int16(graph, calib, int16, observer, io, tgt, ram, progress)
        graph = quantize(float_graph, calib, observer=observer, io=io, progress=progress,
                         activations=acts)
        if info is not None:
            info["int16_tensors"] = sum(t.dtype == "int16" for t in graph.tensors.values())
        if val is not None:
            accuracy = _accuracy(float_graph, graph, val, progress)
    elif val is not None:
        raise UsageError("--val compares float and int8: it needs --calib (a float model)")
    elif int16:
        raise UsageError("--int16 chooses activation precision when quantizing: it needs "
                         "--calib (a float model)")
    if fmt == "tflite":
        report = compile_tflite(graph, tgt.name, Path(out))
    else:
        graph, part = _partitioned(graph, tgt, partition)
        report = compile_c(graph, tgt, Path(out), prefix,
                           {"partition": part} if part is not None else None)
    if accuracy is not None:
        report["accuracy"] = accuracy
    if calib is not None and info is not None:
        report["int16"] = info
    return report


def _int16(graph: Graph, calib, int16, observer, io, tgt, ram, progress):
    """(activations for quantize, calibration to use, report entry or None) for --int16."""
    if not int16:
        return "int8", calib, None
    from .passes import CLEANUP, run_pipeline
    from .quant import mixed
    cleaned = run_pipeline(graph.validate(), CLEANUP)
    if int16 == "all":
        return "int16", calib, {"mode": "all", "layers": mixed.layers(cleaned)}
    if int16 != "auto":
        names = int16.split(",") if isinstance(int16, str) else list(int16)
        acts = {n.strip(): "int16" for n in names if n.strip()}
        mixed.chosen(cleaned, acts)             # UsageError naming a bad layer
        return acts, calib, {"mode": "layers", "layers": list(acts)}
    from .quant.calibration import collect, iter_samples
    from .quant.promote import auto
    from .quant.ptq import quantize as _quantize
    samples = list(iter_samples(calib, cleaned))
    stats = collect(cleaned, samples, progress)
    choice = auto(cleaned, stats, samples, _ram_check(tgt, ram),
                  lambda st, acts: _quantize(cleaned, st, observer, io=io, activations=acts))
    return choice.activations, stats, choice.to_dict()


def _ram_check(tgt, ram):
    """graph -> (fits, RAM bytes): the planned activations (plus reserve) within the main RAM
    (`ram` or the target's); code, static data and stack are not measured here."""
    from .fit import fit, ram_fits
    from .targets import parse_size
    if tgt.kind == "mobile":
        return lambda graph: (True, None)
    ram = None if ram is None else parse_size(ram)

    def check(graph):
        try:
            rep = fit(graph, tgt, ram=ram, measure=False)
        except NotImplementedError:     # no C kernel for some op: the planned arena alone
            from .plan.memory import plan_memory
            need = plan_memory(graph).arena_size
            return need <= (ram or tgt.ram_region.size), need
        return ram_fits(rep), sum(r.used for r in rep.regions if r.kind == "ram")
    return check


def _accuracy(float_graph: Graph, int8_graph: Graph, val, progress) -> dict:
    """float vs int8 on held-out data: agreement, accuracy (with labels), SNR, worst layer."""
    from .quant.accuracy import evaluate
    path = Path(val)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read validation data: {exc}") from None
    labels = None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            labels = data["labels"] if "labels" in data.files else None
            arrays = [data[k] for k in data.files if k != "labels"]
        data = arrays[0] if len(arrays) == 1 else [list(s) for s in zip(*arrays)]
    rep = evaluate(float_graph, int8_graph, data, labels, progress=progress)
    worst = rep.worst
    return {"samples": rep.samples, "top1_agreement": rep.top1_agreement,
            "float_accuracy": rep.float_accuracy, "int8_accuracy": rep.int8_accuracy,
            "output_snr_db": rep.output_snr_db, "table": rep.table(),
            "worst_layer": None if worst is None else {
                "index": worst.index, "kind": worst.kind, "snr_db": worst.snr_db,
                "added_db": worst.added_db}}


def verify(model, target: str = "cortex-m4", inputs=None, random: int = 3,
           executors=None, partition="auto") -> dict:
    """Reference vs host C vs QEMU (and TFLite Micro for int8) on given and random inputs.
    With patch-based partitioning (`partition`, as `compile`), the partitioned graph runs
    everywhere but TFLite Micro, which runs the model as given; `unpartitioned` then says
    whether the partitioned reference equals the layer-by-layer one on every case."""
    from .targets import load_target
    from .verify.ladder import random_inputs, verify as _verify
    graph = load(model)
    tgt = load_target(target)
    if tgt.kind == "mobile":
        raise UsageError(f"{tgt.name} is a mobile target (.tflite for LiteRT); verify runs C "
                         "on Cortex-M cores (e.g. --target cortex-m4), or use `fitml run "
                         "--executor litert`")
    cases = ([list(inputs)] if inputs else []) + random_inputs(graph, random)
    original = graph
    graph, part = _partitioned(graph, tgt, partition)
    report = _verify(graph, tgt, cases, executors)     # the Target: user .toml boards too
    report["target"] = tgt.name
    if part is not None:
        from .verify.reference import run_graph
        same = all(np.array_equal(a, b) for c in cases
                   for a, b in zip(run_graph(original, c), run_graph(graph, c)))
        report["partition"] = dict(part, unpartitioned_bit_exact=same)
        report["bit_exact"] = report["bit_exact"] and same
        report["ok"] = report["ok"] and (same or not np.issubdtype(
            np.dtype(original.tensors[original.outputs[0]].dtype), np.integer))
    stats = report["stats"]
    stats["macs"] = inspect(graph)["macs"]
    from .backends.c import lower
    stats["arena_bytes"] = lower(graph).plan.arena_size
    if "text" in stats:     # whole harness ELF: flash = load image, RAM = static + stack
        stats["flash_bytes"] = stats["text"] + stats["rodata"] + stats["data"]
        stats["ram_bytes"] = stats["data"] + stats["bss"] + (stats["stack_bytes"] or 0)
    return report


def quantize(model, calib, observer: str = "minmax", io: str = "int8",
             per_channel: bool = True, progress: bool | None = None,
             activations="int8") -> Graph:
    """Post-training int8 quantization of a float model on calibration data `calib`
    (a directory or .npy/.npz file, an iterable of input lists, or collected statistics).
    activations: "int8", "int16" (16x8 everywhere) or {layer: "int16"} (quant/mixed.py)."""
    from .quant.ptq import quantize as _quantize
    return _quantize(load(model), calib, observer=observer, io=io, per_channel=per_channel,
                     progress=progress, activations=activations)


def check(model, target: str, ram=None, flash=None, reserve_ram=0, measure: bool = True,
          partition="auto"):
    """Does the model fit the target? The FitReport (`.fits`, per-region use, per-op memory);
    ram/flash replace the main RAM/flash capacity, reserve_ram keeps bytes for the application
    (each an int or a size string such as "256K"). `partition`: "auto" runs the first layers
    patch by patch when the layer-by-layer activations overflow RAM, "off", or a grid "NxM"
    (the report's `partition` gives the peak before and after and the MAC overhead)."""
    from .fit import fit_partitioned
    from .targets import parse_size
    size = lambda v: None if v is None else parse_size(v)  # noqa: E731
    return fit_partitioned(load(model), target, size(ram), size(flash),
                           size(reserve_ram) or 0, measure, _mode(partition))


def report(model, target: str, ram=None, flash=None, reserve_ram=0, measure: bool = True,
           partition="auto"):
    """The same FitReport as `check` (the CLI's `report` verb exits 0 whatever the verdict)."""
    return check(model, target, ram, flash, reserve_ram, measure, partition)


def _mode(partition):
    """A --partition value checked: "off", "auto" or (rows, cols); UsageError otherwise."""
    from .passes.partition import parse_mode
    if not isinstance(partition, str):
        return tuple(partition)
    try:
        return parse_mode(partition)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _partitioned(graph: Graph, tgt, partition) -> tuple[Graph, dict | None]:
    """(graph to run, partition summary or None) for compile and verify on `tgt`."""
    from .passes.partition import for_target
    mode = _mode(partition)
    graph, found = for_target(graph, tgt, mode)
    if found is None:
        return graph, None
    return graph, dict(found.to_dict(), mode=mode if mode == "auto" else f"{mode[0]}x{mode[1]}")


def _labeled(source):
    """(inputs, labels or None) from an .npz path (arrays + optional `labels`), a path to
    other data, an (x, labels) tuple, or arrays / sample lists without labels."""
    if isinstance(source, tuple) and len(source) == 2:
        return source
    if isinstance(source, (str, Path)) and Path(source).suffix == ".npz":
        try:
            data = np.load(source, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UsageError(f"{source}: cannot read data: {exc}") from None
        with data:
            labels = data["labels"] if "labels" in data.files else None
            arrays = [data[k] for k in data.files if k != "labels"]
        return (arrays[0] if len(arrays) == 1 else [list(s) for s in zip(*arrays)]), labels
    return source, None


def fit_model(model, target: str, calib, val=None, out=None, max_drop: float | None = None,
              ram=None, flash=None, reserve_ram=0, criterion: str = "activation",
              observer: str = "minmax", finetune_epochs: int = 0, train=None,
              example_inputs=None, prefix: str = "model", measure: bool = True,
              progress: bool | None = None):
    """Make a float model fit `target`: int4 weights and structured pruning, least lossy first.

    calib: calibration data (as `quantize`); val: held-out data (an .npz with the inputs and
    optional `labels`, or an (x, labels) tuple) on which loss is measured (default: calib);
    max_drop: most top-1 points that may be lost; ram/flash: replace the main regions'
    capacities; finetune_epochs + train ((x, labels) or .npz): recovery fine-tuning of the
    best candidates with PyTorch (int4 layers fake-quantized). Writes the chosen model as a C
    project into `out` (with fit.json, fit.txt, fit_report.json and pareto.svg) when one fits.
    Returns the `compress.search.SearchResult` (`.ok`, `.chosen`, `.reason`, `.candidates`).
    """
    from .compress.search import search
    from .targets import load_target, parse_size
    size = lambda v: None if v is None else parse_size(v)  # noqa: E731
    graph = load(model, example_inputs)
    if load_target(target).kind == "mobile":
        raise UsageError(f"{target} is a mobile target: fit works on cores and boards")
    val_data, labels = _labeled(val) if val is not None else (None, None)
    tuner = None
    if finetune_epochs:
        if train is None:
            raise UsageError("--finetune-epochs needs training data (--train DATA.npz with "
                             "labels)")
        tuner = _tuner(train, finetune_epochs, progress)
    result = search(graph, target, calib, val_data, labels, max_drop, size(ram), size(flash),
                    size(reserve_ram) or 0, criterion, observer, measure, tuner, progress)
    if result.ok and out is not None:
        _write_fit(result, target, Path(out), prefix)
    return result


def _tuner(train, epochs: int, progress):
    from .compress.finetune import finetune
    x, labels = _labeled(train)
    if labels is None:
        raise UsageError("fine-tuning needs labels (an .npz with `labels`, or (x, labels))")
    return lambda graph, precision: finetune(graph, np.asarray(x), np.asarray(labels), epochs,
                                             set(precision), progress=progress)


def _write_fit(result, target: str, out: Path, prefix: str) -> None:
    """The chosen model as a C project, plus the search's table, JSON and Pareto plot."""
    import json
    from . import report as rep
    from .compiler import compile_c
    from .compress import report as fit_rep
    chosen = result.chosen
    compile_c(chosen.graph, target, out, prefix)
    summary = fit_rep.to_dict(result)
    (out / "fit.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "fit.txt").write_text(fit_rep.table(result) + "\n\n" + fit_rep.changes_text(
        summary["changes"]) + "\n")
    (out / "fit_report.json").write_text(rep.to_json(chosen.fit))
    (out / "pareto.svg").write_text(fit_rep.svg(result))
