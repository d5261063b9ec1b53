"""`fitml compile`: graphs and a target in, a C project (or a .tflite, or a C array) and
report.json out.

A C project holds each model's sources (`<prefix>.c/.h`, `<prefix>_weights.c/.h`, the
`<prefix>.cmake` / `<prefix>.mk` snippets, the exact `<prefix>.tflite` compiled) and one flat
`runtime_c/` with the kernels of all of them (backends/cflat.py), which the models share through
`fitml_runtime.cmake` / `fitml_runtime.mk`. Everything is written into a temporary directory
beside the destination and renamed into place only when complete, so a failed compile never
leaves half-written output.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..backends import cflat
from ..backends.c import c_context, emit_c, lower
from ..backends.carray import c_array
from ..backends.clowered import template_env
from ..backends.cmemory import caller_input_bytes
from ..backends.tflite import write_tflite
from ..ir import Graph
from ..ops import registry
from ..ops.registry import Node
from ..passes.input_layout import layout_info
from ..passes.partition import unpartition
from ..plan.regions import layout_for
from ..report.flash_split import split_flash
from ..report.place import emitted_arrays, moved_activations, moved_weights
from ..targets import load_target
from ..util.atomic import atomic_path
from ..verify.cbuild import used_kernels, variant_for
from ..version import __version__

REPORT_SCHEMA = "fitml.report/1"
PROJECT_SCHEMA = "fitml.project/1"      # report.json of several models sharing one runtime
RUNTIME_SNIPPETS = {"fitml_runtime.cmake.j2": "fitml_runtime.cmake",
                    "fitml_runtime.mk.j2": "fitml_runtime.mk"}


def basic_report(graph: Graph, target: str, fmt: str, arena: int | None = None) -> dict:
    """Sizes and per-op costs known before building (the fit report extends this)."""
    per_op, weights = [], 0
    for i, op in enumerate(graph.ops):
        node = Node.of(graph, op)
        wbytes = sum(t.nbytes for t in node.ins if t is not None and t.is_const)
        weights += wbytes
        per_op.append({"index": i, "kind": op.kind, "macs": int(registry.get(op.kind).macs(node)),
                       "weight_bytes": int(wbytes), "output_shape": list(node.outs[0].shape)})
    report = {"schema": REPORT_SCHEMA, "model": graph.metadata.get("source", ""),
              "target": target, "format": fmt, "arena_bytes": arena, "weights_bytes": weights,
              "macs": sum(o["macs"] for o in per_op), "ops": per_op}
    if layout_info(graph) is not None:      # --input-layout nhwc: the inputs changed shape
        report["input_layout"] = layout_info(graph)
    return report


def memory_layout(low, target) -> dict:
    """Where the lowering put things on `target`: activation bytes per RAM bank (bank 0 is the
    caller's arena), what left the main regions (as the fit report's `moved`), and the
    constants' flash split as the fit report counts it (`flash_split`, code not built here)."""
    arrays = emitted_arrays(low)
    moved = moved_activations(low, target.ram_region.name) + moved_weights(
        low, arrays, low.layout.main_flash)
    params = sum(a.bytes for a in arrays if a.is_param)
    split = split_flash(None, sum(a.bytes for a in arrays), params,
                        [c.to_dict() for c in low.layout_choices])
    return {"flash_split": split,
            "arena_banks": [{"region": b.name, "bytes": b.size, "capacity": b.capacity}
                            for b in low.plan.banks if b.size],
            "moved": [{"what": x.what, "bytes": x.bytes, "from": x.src, "to": x.dst,
                       "kind": x.kind} for x in moved]}


@dataclass
class CModel:
    """One model's part of a C project: its generated files, report and compiled .tflite."""
    prefix: str
    files: dict[str, str]
    report: dict
    tflite: bytes


def c_model(graph: Graph, target, prefix: str = "model", extra: dict | None = None) -> CModel:
    """Emit one model: activations and weights spread over the target's memory regions
    (plan/regions.py); `extra` joins its report (e.g. the partition api.compile chose)."""
    tgt = load_target(target)
    layout = layout_for(tgt, taken=caller_input_bytes(graph, tgt), ops=len(graph.ops))
    files = emit_c(graph, prefix, tgt.name, layout=layout, variant=tgt.kernel_variant,
                   core=tgt.core)
    low = lower(graph, prefix, layout=layout, variant=tgt.kernel_variant, core=tgt.core)
    arena = c_context(low, tgt.name, "")["arena_size"]
    report = basic_report(graph, tgt.name, "c", arena)
    report.update(memory_layout(low, tgt))
    report["dsp_layouts"] = [c.to_dict() for c in low.layout_choices]
    report["files"] = sorted(files) + ["runtime_c/", f"{prefix}.tflite"]
    report.update(extra or {})
    blob = write_tflite(unpartition(graph), metadata={"target": tgt.name})
    return CModel(prefix, files, report, blob)


def runtime_files(models: list[CModel], variant: str) -> dict[str, str]:
    """runtime_c/ (the union of the models' kernels, one source each) and the snippets that
    build it once: {path in the project: text}."""
    kernels = sorted({k for m in models for k in used_kernels(m.files)})
    flat = cflat.flat_runtime(kernels, variant)
    ctx = {"version": __version__, "variant": variant, "models": [m.prefix for m in models],
           "kernels": cflat.kernel_paths(kernels, variant), "libm": cflat.needs_libm(flat)}
    env = template_env()
    out = {f"runtime_c/{name}": text for name, text in flat.items()}
    out.update({name: env.get_template(tpl).render(**ctx)
                for tpl, name in RUNTIME_SNIPPETS.items()})
    return out


def write_c_project(out_dir: Path, models: list[CModel], target) -> dict:
    """Write the models and their shared runtime into `out_dir`; returns report.json's data:
    the model's report (one model), or {"schema": PROJECT_SCHEMA, "models": [...]}."""
    tgt = load_target(target)
    runtime = runtime_files(models, variant_for(tgt))
    for m in models:
        m.report["files"] = sorted(m.report["files"] + list(RUNTIME_SNIPPETS.values()))
    if len(models) == 1:
        report = models[0].report
    else:
        report = {"schema": PROJECT_SCHEMA, "target": tgt.name, "format": "c",
                  "runtime": {"variant": variant_for(tgt), "kernels": sorted(
                      {k for m in models for k in used_kernels(m.files)})},
                  "models": [dict(m.report, prefix=m.prefix) for m in models]}
    with atomic_path(out_dir, directory=True) as tmp:
        for m in models:
            for name, text in m.files.items():
                (tmp / name).write_text(text)
            (tmp / f"{m.prefix}.tflite").write_bytes(m.tflite)   # the exact graph compiled
        for rel, text in runtime.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text)
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def compile_c(graph: Graph, target, out_dir: Path, prefix: str = "model",
              extra: dict | None = None) -> dict:
    """Write the C project of one model: its sources, build snippets, runtime, report.json."""
    return write_c_project(out_dir, [c_model(graph, target, prefix, extra)], target)


def compile_tflite(graph: Graph, target: str, out: Path) -> dict:
    """Write a .tflite (OUT.tflite, or DIR/model.tflite + DIR/report.json)."""
    blob = write_tflite(graph, metadata={"target": target, "source": graph.metadata.get(
        "source", "")})
    report = basic_report(graph, target, "tflite")
    report["tflite_bytes"] = len(blob)
    if out.suffix == ".tflite":
        with atomic_path(out) as tmp:
            tmp.write_bytes(blob)
        return report
    with atomic_path(out, directory=True) as tmp:
        (tmp / "model.tflite").write_bytes(blob)
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def compile_c_array(graph: Graph, target: str, out: Path, prefix: str = "model",
                    source: bytes | None = None) -> dict:
    """Write DIR/<prefix>_tflite.c and .h (the .tflite as an aligned C array, for TFLite Micro
    projects) + DIR/report.json. `source`: the model file's own bytes, used unchanged when the
    model was compiled as given (no quantization); else the .tflite fitml writes."""
    blob = source if source is not None else write_tflite(graph, metadata={
        "target": target, "source": graph.metadata.get("source", "")})
    name = f"{prefix}_tflite"
    files = c_array(blob, name, Path(graph.metadata.get("source", "")).name, __version__)
    report = basic_report(graph, target, "c-array")
    report.update(tflite_bytes=len(blob), array=name, files=sorted(files))
    with atomic_path(out, directory=True) as tmp:
        for fname, text in files.items():
            (tmp / fname).write_text(text)
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
