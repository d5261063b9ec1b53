"""`compile`: a model to a C project or a .tflite for a target, quantizing a float model first.

With calibration data a float model is quantized (int8, or int16 activations where --int16
asks: all layers, named ones, or the noisiest while the RAM budget holds), optionally measured
against float on held-out data; then it is partitioned if its activations overflow RAM
(checking.partitioned) and emitted by compiler.py.
"""
from __future__ import annotations

from pathlib import Path


from ..errors import UsageError
from ..ir import Graph
from ..passes import CLEANUP, run_pipeline
from ..plan.memory import plan_memory
from ..quant import mixed
from ..quant.accuracy import evaluate
from ..quant.calibration import collect, iter_samples
from ..quant.promote import auto
from ..quant.ptq import quantize as _quantize
from ..report.fit import fit, ram_fits, with_overrides
from ..targets import load_target, parse_size
from ..util import outdir
from ..util.cprefix import check_prefix
from ..util.outpath import check_file_target
from ..util.arrays import load_arrays
from .checking import memory_plan, partitioned
from .compiler import compile_c, compile_c_array, compile_tflite
from .core import load, quantize


def compile(model, target: str = "cortex-m4", out=None, fmt: str | None = None,
            prefix: str = "model", calib=None, observer: str = "minmax", io: str = "int8",
            val=None, progress: bool | None = None, partition="auto", int16=None,
            ram=None, force: bool = False, flash=None) -> dict:
    """Compile for a target into `out` (a directory, or a .tflite file); returns the report.

    A float model with `calib` data is quantized to int8 first; `val` (an .npz with the model
    inputs and optional `labels`) adds a float-vs-int8 accuracy report. `partition` ("auto",
    "off" or a grid "NxM"): patch-based execution of the first layers when the layer-by-layer
    activations do not fit the target's RAM (C format only; report key `partition`).
    `int16`: int16 activations (TFLite's 16x8) for "all" layers, for the named layers
    ("L1,L2" or a list), or "auto" (quant/promote.py: the noisiest layers while the RAM budget,
    `ram` or the target's main RAM, holds and the measured SNR gain is worth it); report key
    `int16`. An existing `out` folder is replaced only when it is fitml's previous output
    (util/outdir.py), or with `force`; `prefix` must be a C identifier prefix. `flash` replaces
    the target's main flash capacity (e.g. "66K" on a cortex-m4 core): the DSP weight layouts
    kept are those saving the most instructions per byte that fit (report keys `dsp_layouts`,
    `flash_budget`)."""
    check_prefix(prefix)
    graph = load(model)
    tgt = load_target(target)
    if out is None:
        raise UsageError("compile needs an output path (-o)")
    fmt = fmt or tgt.default_format
    if tgt.kind == "mobile" and fmt not in ("tflite", "c-array"):
        raise UsageError(f"{tgt.name} is a mobile target: it takes --format tflite")
    if (flash is not None or ram is not None) and tgt.kind != "mobile":
        # the plan (partition, small arena) is chosen for these sizes, as `check` chooses it
        tgt = with_overrides(tgt, None if ram is None else parse_size(ram),
                             None if flash is None else parse_size(flash))
    if fmt not in ("c", "tflite", "c-array"):
        raise UsageError(f"unknown format {fmt!r}; supported: c, tflite, c-array")
    if fmt == "tflite" and Path(out).suffix == ".tflite":
        check_file_target(out, "-o", "tflite")
    else:
        outdir.check_dir_target(out, force, "-o", inputs=(model, calib, val))
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
        with outdir.replacing(out, force):
            report = compile_tflite(graph, tgt.name, Path(out))
    elif fmt == "c-array":
        with outdir.replacing(out, force):
            report = compile_c_array(graph, tgt.name, Path(out), prefix,
                                     _tflite_as_given(model, calib))
    else:
        graph, part = partitioned(graph, tgt, partition)
        extra = {"partition": part} if part is not None else {}
        if memory_plan(graph):
            extra["memory_plan"] = memory_plan(graph)
        if flash is not None:
            extra["flash_budget"] = tgt.code_region.size
        if accuracy is not None:             # in report.json too, not only the return value
            extra["accuracy"] = accuracy
        if calib is not None and info is not None:
            extra["int16"] = info
        with outdir.replacing(out, force):
            report = compile_c(graph, tgt, Path(out), prefix, extra or None)
    if accuracy is not None:
        report["accuracy"] = accuracy
    if calib is not None and info is not None:
        report["int16"] = info
    return report


def _tflite_as_given(model, calib) -> bytes | None:
    """The model file's own bytes when it is a .tflite file compiled as given (no
    quantization), so the C array is that file exactly; else None (compiler.py writes the
    graph)."""
    if calib is None and isinstance(model, (str, Path)) and \
            Path(model).suffix.lower() == ".tflite":
        return Path(model).read_bytes()
    return None


def _int16(graph: Graph, calib, int16, observer, io, tgt, ram, progress):
    """(activations for quantize, calibration to use, report entry or None) for --int16."""
    if not int16:
        return "int8", calib, None
    cleaned = run_pipeline(graph.validate(), CLEANUP)
    if int16 == "all":
        return "int16", calib, {"mode": "all", "layers": mixed.layers(cleaned)}
    if int16 != "auto":
        names = int16.split(",") if isinstance(int16, str) else list(int16)
        acts = {n.strip(): "int16" for n in names if n.strip()}
        mixed.chosen(cleaned, acts)             # UsageError naming a bad layer
        return acts, calib, {"mode": "layers", "layers": list(acts)}
    samples = list(iter_samples(calib, cleaned))
    stats = collect(cleaned, samples, progress)
    choice = auto(cleaned, stats, samples, _ram_check(tgt, ram),
                  lambda st, acts: _quantize(cleaned, st, observer, io=io, activations=acts))
    return choice.activations, stats, choice.to_dict()


def _ram_check(tgt, ram):
    """graph -> (fits, RAM bytes): the planned activations (plus reserve) within the main RAM
    (`ram` or the target's); code, static data and stack are not measured here."""
    if tgt.kind == "mobile":
        return lambda graph: (True, None)
    ram = None if ram is None else parse_size(ram)

    def check(graph):
        try:
            rep = fit(graph, tgt, ram=ram, measure=False)
        except NotImplementedError:     # no C kernel for some op: the planned arena alone
            need = plan_memory(graph).arena_size
            return need <= (ram or tgt.ram_region.size), need
        return ram_fits(rep), sum(r.used for r in rep.regions if r.kind == "ram")
    return check


def _accuracy(float_graph: Graph, int8_graph: Graph, val, progress) -> dict:
    """float vs int8 on held-out data: agreement, accuracy (with labels), SNR, worst layer."""
    path = Path(val)
    data = load_arrays(path, "validation data")
    labels = None
    if isinstance(data, dict):   # an .npz file
        labels = data.get("labels")
        arrays = [v for k, v in data.items() if k != "labels"]
        data = arrays[0] if len(arrays) == 1 else [list(s) for s in zip(*arrays)]
    rep = evaluate(float_graph, int8_graph, data, labels, progress=progress)
    worst = rep.worst
    return {"samples": rep.samples, "top1_agreement": rep.top1_agreement,
            "float_accuracy": rep.float_accuracy, "int8_accuracy": rep.int8_accuracy,
            "output_snr_db": rep.output_snr_db, "table": rep.table(),
            "worst_layer": None if worst is None else {
                "index": worst.index, "kind": worst.kind, "snr_db": worst.snr_db,
                "added_db": worst.added_db}}

