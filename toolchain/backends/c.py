"""C backend: Graph + memory plan -> model.h, model.c, model_weights.c and build snippets.

The generated code is a static schedule of runtime kernel calls on one caller-owned arena
(plus, when a layout spreads activations over RAM banks, one static array per further bank;
weights spilled to another flash region go to a section named after it: plan/regions.py).
Identical graphs give byte-identical files (no paths, no timestamps).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import Graph
from ..lowering.ccall import C_TYPES, CArray, CCall, TensorRef, kernel_names
from ..lowering.cvariant import kernel_variant
from ..ops import registry
from ..ops.patch_cache import cached_lower
from ..ops.registry import Node
from ..passes.input_layout import layout_info
from ..passes.schedule import schedule_for_memory
from ..plan.arena import align_up
from ..plan.memory import MemoryPlan, plan_memory
from ..plan.regions import Layout, place_weights
from ..version import __version__
from . import cgen_util as cu
from .clayouts import fit_layouts
from .clowered import Lowered, bank_symbol, template_env
from .cmemory import drop_peak_scratch, fuse_residual_adds, wants_caller_inputs, wants_scratch_free
from .cweights_asm import weights_assembly
from .cshare import overlaid_outputs, shared_storage

WEIGHT_ALIGN, PARAM_ALIGN = 16, 4   # as templates/model_weights.c.j2 aligns the arrays


def lower(graph: Graph, prefix: str = "model", alignment: int = 16,
          layout: Layout | None = None, variant: str = "portable",
          scratch_free: bool | None = None, caller_inputs: bool | None = None,
          core: str | None = None) -> Lowered:
    """Schedule for memory, lower every op through the registry for the runtime `variant`
    ("portable", "dsp", "mve": what the target links) and plan the arena (activations +
    scratch), over the layout's RAM banks if given; with a layout, DSP weight layouts that
    would overflow its flash are left out, those saving the fewest instructions per byte on
    `core` first (backends/clayouts.py; `Lowered.layout_choices`). For the smallest arena
    (`scratch_free=True` or the `cmemory.scratch_free()` context) residual ADDs fuse into
    their convs and ops whose scratch raises the peak take scratch-free kernels
    (backends/cmemory.py). With
    `caller_inputs` (or the `cmemory.caller_inputs()` context) the inputs stay in the caller's
    buffers, outside the arena.
    `Lowered.graph` is the scheduled (and fused) graph."""
    graph = schedule_for_memory(graph)
    with kernel_variant(variant):
        # check, compile and verify lower the same graph several times: each op once
        calls = [cached_lower(op, Node.of(graph, op)) for op in graph.ops]
        plain: tuple[str, ...] = ()
        choices: tuple = ()
        if layout is not None:      # DSP layouts and int8 tables within the main flash
            calls, plain, choices = fit_layouts(graph, calls, layout, core, variant)
    graph, calls, best = plan_calls(graph, calls, alignment, layout.banks if layout else None,
                                    variant, scratch_free, caller_inputs)
    return Lowered(graph, calls, best, cu.c_identifier(prefix), layout=layout,
                   plain_layouts=plain, layout_choices=choices)


def plan_calls(graph: Graph, calls: list[CCall], alignment: int = 16, banks=None,
               variant: str = "portable", scratch_free: bool | None = None,
               caller_inputs: bool | None = None) -> tuple[Graph, list[CCall], MemoryPlan]:
    """lower()'s memory steps on a scheduled graph's calls, then the plan. Two schedules:
    fast (every kernel as lowered) and smallest (residual ADDs fused into their convs, ops whose
    scratch raises the peak on scratch-free kernels: fewer bytes, more instructions).
    `scratch_free` True / False picks one, None defers to the `cmemory.scratch_free()` context
    (`fitml ... --memory small|fast`), else to the plan the board's choice recorded on the
    graph (cpartition.choose), fast by default. `caller_inputs` likewise with
    `cmemory.caller_inputs()`: the graph inputs are left out of the plan."""
    del variant     # both schedules exist for every runtime variant
    ext = tuple(graph.inputs) if wants_caller_inputs(caller_inputs) else ()

    def build(small: bool):
        g, cs = fuse_residual_adds(graph, calls) if small else (graph, list(calls))
        shares, overlays = shared_storage(g, cs, ext), overlaid_outputs(g, cs, ext)
        plan = lambda c, b=None: plan_memory(  # noqa: E731
            g, lambda i: c[i].scratch_bytes, alignment, shares, b, overlays=overlays,
            external=ext)
        if small:
            cs, _ = drop_peak_scratch(g, cs, plan, shares, ext)
        return g, cs, plan(cs, banks)

    return build(wants_scratch_free(scratch_free, graph))


def _io(low: Lowered, names) -> list[dict]:
    out = []
    for i, name in enumerate(names):
        t = low.graph.tensors[name]
        q = t.quant
        inside = name not in low.plan.external
        out.append({"index": i, "ctype": C_TYPES[t.dtype], "dims": list(t.shape),
                    "size": t.size, "bytes": t.nbytes,
                    "offset": low.plan.offsets[name] if inside else None,
                    "ptr": f"{low.base(low.plan.bank_of(name))} + {low.plan.offsets[name]}"
                    if inside else low.input_base(name),
                    "scale": q.s if q is not None else 0.0, "zero_point": q.zp if q else 0,
                    "dtype": t.dtype})
    return out


MODEL_TEMPLATES = {"model.h.j2": "{p}.h", "model.c.j2": "{p}.c",
                   "model_weights.c.j2": "{p}_weights.c", "model_weights.h.j2": "{p}_weights.h",
                   "fitml_model.cmake.j2": "{p}.cmake", "fitml_model.mk.j2": "{p}.mk"}


def emit_c(graph: Graph, prefix: str = "model", target: str = "",
           weights_section: str = ".rodata.fitml_weights",
           extra: dict[str, str] | None = None, layout: Layout | None = None,
           variant: str = "portable", core: str | None = None,
           profile: bool = False, steps: int = 1, resets=(), weights_asm_opt: str | None = None
           ) -> dict[str, str | bytes]:
    """All generated files by name; `extra` maps more templates (e.g. a harness) to file names;
    a harness runs `steps` invokes, resetting the state before those in `resets`.
    `weights_asm_opt`: a measuring build at that gcc -O level, whose weights come as assembly
    over a binary file (<prefix>_weights.s + .bin, cweights_asm.py) when that form is exact.
    `layout` (plan/regions.py) spreads activations over RAM banks and weights over flash (the
    DSP layouts that fit chosen for `core`). `profile`: a marker call before every op and
    after the last (verify/profile.py); without it the files do not mention profiling."""
    ctx = c_context(lower(graph, prefix, layout=layout, variant=variant, core=core), target,
                    weights_section)
    ctx.update(profile=profile, invokes=int(steps), resets=sorted(int(k) for k in resets))
    env = template_env()
    names = {tpl: out.format(p=ctx["prefix"]) for tpl, out in MODEL_TEMPLATES.items()}
    names.update(extra or {})
    files: dict[str, str | bytes] = {}
    if weights_asm_opt is not None:
        blob = f"{ctx['prefix']}_weights.bin"
        form = weights_assembly(ctx, blob, weights_asm_opt)
        if form is not None:
            del names["model_weights.c.j2"]
            files = {f"{ctx['prefix']}_weights.s": form[0], blob: form[1]}
    return {**files, **{out: env.get_template(tpl).render(**ctx) for tpl, out in names.items()}}


def _layout_notes(graph: Graph, inputs: list[dict]) -> list[dict]:
    """Inputs made NHWC by --input-layout nhwc say so (model.h), with the model's NCHW shape."""
    changed = {c["input"]: c for c in (layout_info(graph) or {}).get("inputs", ())}
    for io, name in zip(inputs, graph.inputs):
        c = changed.get(name)
        io["layout_note"] = cu.c_comment(
            f"NHWC (--input-layout nhwc): the model file's input is NCHW {c['nchw_shape']}; "
            "its TRANSPOSE to NHWC was removed", 160) if c else ""
    return inputs


def c_context(low: Lowered, target: str, weights_section: str) -> dict[str, Any]:
    """Everything the templates need, with every name and number already C-safe."""
    graph = low.graph
    steps = []
    for i, (op, call) in enumerate(zip(graph.ops, low.calls)):
        step = {"index": i, "kind": op.kind, "call": call, "params": None,
                "what": cu.c_comment(f"{op.kind} -> {list(graph.tensors[op.outputs[0]].shape)}")}
        if call.alias_of is not None:
            src, dst = graph.tensors[call.alias_of], graph.tensors[op.outputs[0]]
            same = src.is_const is False and low.plan.offsets.get(src.name) == \
                low.plan.offsets.get(dst.name) and low.plan.bank_of(src.name) == \
                low.plan.bank_of(dst.name)
            step["alias_copy"] = None if same else (
                low.pointer(TensorRef(dst.name)), low.pointer(TensorRef(src.name)), dst.nbytes)
        else:
            step["params"] = low.value(call.params) if call.params_type else None
            step["args"] = [low.arg(a, i) for a in call.args]
            if call.emit is not None:       # a composite op's own C (ops/patch_lowering.py)
                step["stage"] = call.emit(low, i)
        steps.append(step)
    place_constants(low)
    states = _states(low)
    main = low.layout.main_flash if low.layout else None
    region = lambda n: None if low.weight_regions.get(n, main) == main \
        else low.weight_regions[n]  # noqa: E731
    weights = [{"name": n, "ctype": C_TYPES[graph.tensors[t].dtype],
                "array": CArray(graph.tensors[t].data, C_TYPES[graph.tensors[t].dtype]),
                "region": region(n)} for t, n in low.weights.items()]
    # kernel-layout weight copies (e.g. DSP int16 layouts) are weights too: same section,
    # alignment and spill rules; per-channel parameters stay small and in main flash
    weights += [{"name": n, "ctype": a.ctype, "array": a, "region": region(n)}
                for n, a in low.arrays.values() if a.role == "weights"]
    arrays = [{"name": n, "ctype": a.ctype, "array": a} for n, a in low.arrays.values()
              if a.role != "weights"]
    banks = [{"name": b.name, "NAME": b.name.upper(), "size": b.size, "index": k,
              "symbol": bank_symbol(low.prefix, b.name)}
             for k, b in enumerate(low.plan.banks) if k and b.size]
    ctx = {"prefix": low.prefix, "PREFIX": low.prefix.upper(), "steps": steps,
           "arena_size": low.plan.arena_size,
           "inputs": _layout_notes(graph, _io(low, graph.inputs)),
           "outputs": _io(low, graph.outputs), "weights": weights, "arrays": arrays,
           "section": weights_section, "plan": low.plan, "version": __version__,
           "banks": banks, "caller_inputs": low.caller_inputs, "states": states,
           "state_bytes": sum(s["bytes"] for s in states),
           "main_ram": low.plan.banks[0].name if low.plan.banks else "",
           "flash_regions": sorted({w["region"] for w in weights if w["region"]}),
           "target": cu.c_comment(target),
           "source": cu.c_comment(graph.metadata.get("source", "")),
           "kernels": sorted({k for c in low.calls for k in kernel_names(c)}),
           "profile": False, "invokes": 1, "resets": [],
           "macs": sum(registry.get(op.kind).macs(Node.of(graph, op)) for op in graph.ops)}
    return ctx


def _states(low: Lowered) -> list[dict]:
    """The variable tensors of stateful ops (SVDF, LSTM), as model.c keeps them: a static array
    each, starting from the tensor's initial value (zero: in .bss; else an _init copy, e.g. an
    int8 LSTM hidden state at its zero point), which reset_state() restores."""
    out = []
    for name, symbol in low.states.items():
        t = low.graph.tensors[name]
        values = CArray(t.data, C_TYPES[t.dtype])
        out.append({"symbol": symbol, "ctype": C_TYPES[t.dtype], "size": t.size,
                    "bytes": t.nbytes, "array": values, "zero": not np.any(values.values),
                    "what": cu.c_comment(f"{t.name} {t.dtype}{list(t.shape)}")})
    return out


def constant_arrays(low: Lowered) -> list[tuple[str, int, bool]]:
    """(symbol, footprint as emitted, is_param) of every constant array named so far."""
    weights = [(n, align_up(low.graph.tensors[t].nbytes, WEIGHT_ALIGN), False)
               for t, n in low.weights.items()]
    return weights + [(n, align_up(a.values.nbytes, WEIGHT_ALIGN), False) if a.role == "weights"
                      else (n, align_up(a.values.nbytes, PARAM_ALIGN), True)
                      for n, a in low.arrays.values()]


def place_constants(low: Lowered) -> None:
    """Fill `low.weight_regions` from the layout (every weight in main flash without one)."""
    if low.layout is not None:
        spillable = {n for n, _, is_param in constant_arrays(low) if not is_param}
        low.weight_regions = {s: r for s, r in place_weights(low.layout, constant_arrays(low))
                              .items() if s in spillable}
