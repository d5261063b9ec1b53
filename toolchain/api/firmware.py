"""Several models in one firmware: `fitml compile A B C -o DIR --prefix a,b,c`.

Each model is compiled as `compile` would (partitioned when its activations overflow RAM), into
one folder whose flat `runtime_c/` holds the union of their kernels, one source each, in the
target's variant, and whose snippets build that runtime once however many models are included.
"""
from __future__ import annotations

from pathlib import Path

from ..backends.cgen_util import c_identifier
from ..errors import UsageError
from ..ir import Graph
from ..targets import load_target
from ..util import outdir
from ..util.cprefix import PREFIX_MAX, check_prefix
from .checking import partitioned
from .compiler import c_model, write_c_project
from .core import load


def default_prefixes(models) -> list[str]:
    """A C prefix per model: its file name's stem (model0, model1, ... for graphs)."""
    return [c_identifier(Path(m).stem)[:PREFIX_MAX] if isinstance(m, (str, Path))
            else f"model{i}" for i, m in enumerate(models)]


def compile_models(models, target: str = "cortex-m4", out=None, prefixes=None,
                   partition="auto", force: bool = False) -> dict:
    """Compile already-quantized (or float) models into one C project sharing one runtime;
    returns report.json's data: {"schema": "fitml.project/1", "models": [per-model report]}.
    `prefixes`: one C identifier prefix per model (a list, or "a,b,c"; default: each file's
    stem). `partition` and `force` as for `compile`."""
    models = list(models)
    if not models:
        raise UsageError("compile needs at least one model")
    if isinstance(prefixes, str):
        prefixes = [p.strip() for p in prefixes.split(",")]
    prefixes = list(prefixes) if prefixes else default_prefixes(models)
    if len(prefixes) != len(models):
        raise UsageError(f"--prefix names {len(prefixes)} prefix(es) for {len(models)} models; "
                         "give one per model, comma-separated (e.g. --prefix kws,ad)")
    for p in prefixes:
        check_prefix(p)
    same = sorted({p for p in prefixes if prefixes.count(p) > 1})
    if same:
        raise UsageError(f"--prefix {','.join(prefixes)}: {', '.join(same)} given twice; each "
                         "model needs its own prefix")
    tgt = load_target(target)
    if tgt.kind == "mobile":
        raise UsageError(f"{tgt.name} is a mobile target: several models compile to one C "
                         "project for a Cortex-M core or board")
    if out is None:
        raise UsageError("compile needs an output path (-o)")
    outdir.check_dir_target(out, force, "-o",
                            inputs=tuple(m for m in models if not isinstance(m, Graph)))
    parts = []
    for model, prefix in zip(models, prefixes):
        graph, part = partitioned(load(model), tgt, partition)
        parts.append(c_model(graph, tgt, prefix, {"partition": part} if part else None))
    with outdir.replacing(out, force):
        return write_c_project(Path(out), parts, tgt)
