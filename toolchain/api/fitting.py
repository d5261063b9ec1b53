"""`fit_model`: make a float model fit a target with int4 weights and structured pruning.

The search is fit/search.py; here are the data loading (.npz with `labels`), the optional
PyTorch fine-tuning hook, and writing the chosen C project with the search's table and plot.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..fit import search_report as fit_rep
from ..fit.finetune import finetune
from ..fit.search import search
from ..report import fit_report as rep
from ..targets import load_target, parse_size
from ..util import outdir
from ..util.cprefix import check_prefix
from ..util.arrays import load_arrays
from ..util.atomic import atomic_path
from .compiler import compile_c
from .core import load


def _labeled(source):
    """(inputs, labels or None) from an .npz path (arrays + optional `labels`), a path to
    other data, an (x, labels) tuple, or arrays / sample lists without labels."""
    if isinstance(source, tuple) and len(source) == 2:
        return source
    if isinstance(source, (str, Path)) and Path(source).suffix == ".npz":
        data = load_arrays(source, "data")
        if not isinstance(data, dict):
            raise UsageError(f"{source}: not an .npz archive (expected arrays and optional "
                             "`labels`)")
        labels = data.get("labels")
        arrays = [v for k, v in data.items() if k != "labels"]
        return (arrays[0] if len(arrays) == 1 else [list(s) for s in zip(*arrays)]), labels
    return source, None


def fit_model(model, target: str, calib, val=None, out=None, max_drop: float | None = None,
              ram=None, flash=None, reserve_ram=0, criterion: str = "activation",
              observer: str = "minmax", finetune_epochs: int = 0, train=None,
              example_inputs=None, prefix: str = "model", measure: bool = True,
              progress: bool | None = None, force: bool = False):
    """Make a float model fit `target`: int4 weights and structured pruning, least lossy first.

    calib: calibration data (as `quantize`); val: held-out data (an .npz with the inputs and
    optional `labels`, or an (x, labels) tuple) on which loss is measured (default: calib);
    max_drop: most top-1 points that may be lost; ram/flash: replace the main regions'
    capacities; finetune_epochs + train ((x, labels) or .npz): recovery fine-tuning of the
    best candidates with PyTorch (int4 layers fake-quantized). Writes the chosen model as a C
    project into `out` (with fit.json, fit.txt, fit_report.json and pareto.svg) when one fits;
    an existing `out` folder is replaced only when it is fitml's previous output, or `force`.
    Returns the `fit.ranking.SearchResult` (`.ok`, `.chosen`, `.reason`, `.candidates`).
    """
    size = lambda v: None if v is None else parse_size(v)  # noqa: E731
    check_prefix(prefix)
    if out is not None:             # before the search: it takes minutes
        outdir.check_dir_target(out, force, "-o", inputs=(model, calib, val, train))
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
        with outdir.replacing(out, force):
            _write_fit(result, target, Path(out), prefix)
    return result


def _tuner(train, epochs: int, progress):
    x, labels = _labeled(train)
    if labels is None:
        raise UsageError("fine-tuning needs labels (an .npz with `labels`, or (x, labels))")
    return lambda graph, precision: finetune(graph, np.asarray(x), np.asarray(labels), epochs,
                                             set(precision), progress=progress)


def _write_fit(result, target: str, out: Path, prefix: str) -> None:
    """The chosen model as a C project, plus the search's table, JSON and Pareto plot, all
    put in place at once (the project is compiled into the temporary folder)."""
    chosen = result.chosen
    with atomic_path(out, directory=True) as tmp:
        compile_c(chosen.graph, target, tmp, prefix)
        summary = fit_rep.to_dict(result)
        (tmp / "fit.json").write_text(json.dumps(summary, indent=2) + "\n")
        (tmp / "fit.txt").write_text(fit_rep.table(result) + "\n\n" + fit_rep.changes_text(
            summary["changes"]) + "\n")
        (tmp / "fit_report.json").write_text(rep.to_json(chosen.fit))
        (tmp / "pareto.svg").write_text(fit_rep.svg(result))
