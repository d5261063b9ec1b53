"""`fitml compile`: a Graph and a target in, a C project (or a .tflite) and report.json out.

Everything is written into a temporary directory beside the destination and renamed into place
only when complete, so a failed compile never leaves half-written output.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..backends import cruntime
from ..backends.c import c_context, emit_c, lower
from ..backends.cmemory import caller_input_bytes
from ..backends.tflite import write_tflite
from ..ir import Graph
from ..ops import registry
from ..ops.registry import Node
from ..passes.partition import unpartition
from ..plan.regions import layout_for
from ..report.place import emitted_arrays, moved_activations, moved_weights
from ..targets import load_target
from ..util.atomic import atomic_path
from ..verify.cexec import used_kernels, variant_for

REPORT_SCHEMA = "fitml.report/1"


def basic_report(graph: Graph, target: str, fmt: str, arena: int | None = None) -> dict:
    """Sizes and per-op costs known before building (the fit report extends this)."""
    per_op, weights = [], 0
    for i, op in enumerate(graph.ops):
        node = Node.of(graph, op)
        wbytes = sum(t.nbytes for t in node.ins if t is not None and t.is_const)
        weights += wbytes
        per_op.append({"index": i, "kind": op.kind, "macs": int(registry.get(op.kind).macs(node)),
                       "weight_bytes": int(wbytes), "output_shape": list(node.outs[0].shape)})
    return {"schema": REPORT_SCHEMA, "model": graph.metadata.get("source", ""),
            "target": target, "format": fmt, "arena_bytes": arena, "weights_bytes": weights,
            "macs": sum(o["macs"] for o in per_op), "ops": per_op}


def copy_runtime(dest: Path, variant: str, kernels) -> None:
    """The runtime for one build: include/ and src/ with one source per kernel the model calls."""
    shutil.copytree(cruntime.include_dir(), dest / "include")
    (dest / "src").mkdir(parents=True)
    sources = cruntime.runtime_sources(kernels, variant=variant)
    headers = {h for s in sources for h in s.parent.glob("*.h")}
    for path in sorted(set(sources) | headers):
        shutil.copyfile(path, dest / "src" / path.name)
    if variant != "portable":   # DSP/MVE sources include "../portable/<kernel>.c", "../dsp/..."
        for sub in ("portable", "dsp"):
            shutil.copytree(cruntime.runtime_dir() / "src" / sub, dest / sub)


def memory_layout(low, target) -> dict:
    """Where the lowering put things on `target`: activation bytes per RAM bank (bank 0 is the
    caller's arena) and what left the main regions (as the fit report's `moved`)."""
    moved = moved_activations(low, target.ram_region.name) + moved_weights(
        low, emitted_arrays(low), low.layout.main_flash)
    return {"arena_banks": [{"region": b.name, "bytes": b.size, "capacity": b.capacity}
                            for b in low.plan.banks if b.size],
            "moved": [{"what": x.what, "bytes": x.bytes, "from": x.src, "to": x.dst,
                       "kind": x.kind} for x in moved]}


def compile_c(graph: Graph, target, out_dir: Path, prefix: str = "model",
              extra: dict | None = None) -> dict:
    """Write the C project: model sources, build snippets, the runtime, report.json. Activations
    and weights are spread over the target's memory regions (plan/regions.py)."""
    tgt = load_target(target)
    target = tgt.name
    layout = layout_for(tgt, taken=caller_input_bytes(graph, tgt))
    files = emit_c(graph, prefix, target, layout=layout, variant=tgt.kernel_variant,
                   core=tgt.core)
    low = lower(graph, prefix, layout=layout, variant=tgt.kernel_variant, core=tgt.core)
    arena = c_context(low, target, "")["arena_size"]
    report = basic_report(graph, target, "c", arena)
    report.update(memory_layout(low, tgt))
    report["dsp_layouts"] = [c.to_dict() for c in low.layout_choices]
    report["files"] = sorted(files) + ["runtime_c/"]
    report.update(extra or {})                       # e.g. the partition api.compile chose
    model_blob = write_tflite(unpartition(graph), metadata={"target": target})
    report["files"].append(f"{prefix}.tflite")
    with atomic_path(out_dir, directory=True) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text)
        (tmp / f"{prefix}.tflite").write_bytes(model_blob)   # the exact graph compiled
        copy_runtime(tmp / "runtime_c", variant_for(tgt), used_kernels(files))
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


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
