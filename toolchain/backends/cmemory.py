"""Memory-driven lowering choices of the C backend (called by c.lower()).

- `fuse_residual_adds`: an int8 ADD whose operand is a CONV_2D output used only by it becomes
  one fitml_conv_add_s8 call writing ADD(residual, conv) over the dying residual, so the conv
  output is never materialized (ResNet blocks: residual + conv input + conv output live -> 2).
- `drop_peak_scratch`: ops whose kernel scratch raises the arena above what the activations
  alone need switch to their scratch-free kernels (bit-exact, more instructions).
- `caller_input_bytes`: the RAM caller-owned inputs take (--input-buffer caller), for layouts.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from typing import Callable

from ..errors import UsageError
from ..ir import Graph
from ..lowering.ccall import CCall, Scratch, TensorRef
from ..plan.memory import MemoryPlan, lifetimes, storage_groups
from ..targets import Target

NOSCRATCH = {"fitml_conv_s8": "fitml_conv_s8_noscratch",
             "fitml_depthwise_conv_s8": "fitml_depthwise_conv_s8_noscratch"}


_SCRATCH_FREE = contextvars.ContextVar("fitml_scratch_free", default=None)


@contextlib.contextmanager
def scratch_free(on: bool | None = True):
    """Within: lower() plans the smallest arena (True), the fastest kernels (False) or decides
    by the RAM budget (None)."""
    token = _SCRATCH_FREE.set(on)
    try:
        yield
    finally:
        _SCRATCH_FREE.reset(token)


_CALLER_INPUTS = contextvars.ContextVar("fitml_caller_inputs", default=False)


@contextlib.contextmanager
def caller_inputs(on: bool | str = True):
    """Within: lower() leaves the model inputs out of the arena (`--input-buffer caller`);
    the generated invoke() takes the caller's input pointers. A string names the RAM region
    holding those buffers (the fit report counts them there; default the main RAM)."""
    token = _CALLER_INPUTS.set(on)
    try:
        yield
    finally:
        _CALLER_INPUTS.reset(token)


def wants_caller_inputs(on: bool | None = None) -> bool:
    """`on`, else the caller_inputs() context (default: inputs live in the arena)."""
    return bool(_CALLER_INPUTS.get() if on is None else on)


def caller_input_region() -> str | None:
    """The RAM region named for the caller's input buffers (caller_inputs("sram2")), or None."""
    value = _CALLER_INPUTS.get()
    return value if isinstance(value, str) and value else None


def input_region(tgt: Target) -> str:
    """The RAM region holding caller-owned inputs: the one named (--input-buffer caller:NAME,
    checked against the target's RAM regions), else the main RAM region."""
    name = caller_input_region()
    rams = [r.name for r in tgt.regions if r.kind == "ram"]
    if name is None:
        return tgt.ram_region.name
    if name not in rams:
        raise UsageError(f"--input-buffer caller:{name}: {tgt.name} has no RAM region {name!r}; "
                         f"its RAM regions: {', '.join(rams)}")
    return name


def caller_input_bytes(graph, tgt: Target) -> dict[str, int]:
    """RAM region -> bytes of the caller-owned input buffers it holds (--input-buffer caller),
    for layout_for's `taken`; empty when the inputs live in the arena."""
    if not wants_caller_inputs():
        return {}
    return {input_region(tgt): sum(graph.tensors[n].nbytes for n in graph.inputs)}


SMALL_PLAN = "small"         # graph.metadata["memory"]: the plan `choose` picked for the board


def wants_scratch_free(on: bool | None = None, graph: Graph | None = None) -> bool:
    """`on`, else the scratch_free() context (`--memory small` / `fast`), else what the
    automatic plan choice recorded on the graph (`graph.metadata["memory"]`, set by
    cpartition.choose): True = smallest arena (fused residual ADDs, scratch-free kernels: more
    instructions, the DSP paths of the switched ops given up), False = fastest kernels."""
    forced = _SCRATCH_FREE.get() if on is None else on
    if forced is not None:
        return bool(forced)
    return graph is not None and graph.metadata.get("memory") == SMALL_PLAN


def plan_forced() -> bool:
    """Whether `--memory fast|small` (the scratch_free() context) forces the plan."""
    return _SCRATCH_FREE.get() is not None


def with_small_plan(graph: Graph) -> Graph:
    """The graph marked for the smallest-arena plan (what lower() then plans for it)."""
    return graph.replace(metadata={**graph.metadata, "memory": SMALL_PLAN})


def without_scratch(call: CCall) -> CCall | None:
    """The call's scratch-free twin (same params), or None. The conv twin reads no DSP
    arrays (dropped) but the int8 filter (taken back from plain_params when a DSP layout
    replaced it); the depthwise twin reads the plain filter too."""
    kernel = NOSCRATCH.get(call.kernel)
    if kernel is None or not call.scratch_bytes:
        return None
    unused = ("filter_dsp", "fast_requant") if call.kernel == "fitml_conv_s8" else ()
    params = {k: ("NULL" if k in unused else v) for k, v in call.params.items()}
    params.update(call.plain_params)
    return dataclasses.replace(call, kernel=kernel, params=params, scratch_bytes=0,
                               args=tuple(a for a in call.args if not isinstance(a, Scratch)))


def fuse_residual_adds(graph: Graph, calls: list[CCall]) -> tuple[Graph, list[CCall]]:
    """Fold each eligible ADD into the conv producing one operand: the conv step (its op gets
    the residual as 4th input) writes the sum over the residual; the ADD becomes an alias."""
    producer = {n: i for i, op in enumerate(graph.ops) for n in op.outputs}
    users: dict[str, list[int]] = {}
    for i, op in enumerate(graph.ops):
        for n in set(op.inputs):
            users.setdefault(n, []).append(i)
    fused: dict[int, tuple[int, str, int]] = {}     # conv step -> (ADD step, residual, first)
    for i, (op, call) in enumerate(zip(graph.ops, calls)):
        if call.kernel != "fitml_add_s8" or len(op.inputs) != 2:
            continue
        out = graph.tensors[op.outputs[0]]
        for k in (1, 0):
            conv_t, res_t = op.inputs[k], op.inputs[1 - k]
            j = producer.get(conv_t)
            if j is None or j in fused or calls[j].kernel != "fitml_conv_s8" \
                    or users.get(conv_t) != [i] or conv_t in graph.outputs:
                continue
            res = graph.tensors[res_t]
            if res.is_const or res_t == conv_t or res_t in graph.outputs \
                    or tuple(res.shape) != tuple(out.shape) \
                    or tuple(graph.tensors[conv_t].shape) != tuple(out.shape) \
                    or producer.get(res_t, -1) >= j \
                    or any(u >= j for u in users[res_t] if u != i):
                continue
            fused[j] = (i, res_t, int(k == 1))
            break
    if not fused:
        return graph, calls
    ops, calls = list(graph.ops), list(calls)
    for j, (i, res_t, first) in fused.items():
        conv, add = calls[j], calls[i]
        conv_t = ops[j].outputs[0]
        ops[j] = ops[j].replace(inputs=tuple(ops[j].inputs) + (res_t,))
        params = dict(conv=(without_scratch(conv) or conv).params,
                      add=dict(add.params, lut="NULL"), residual_first=first)
        calls[j] = CCall("fitml_conv_add_s8", "fitml_conv_add_s8_params", params,
                         (conv.args[0], TensorRef(res_t), TensorRef(conv_t)),
                         inplace_input=len(ops[j].inputs) - 1)
        # the ADD step stays (reports keep one row per op) as an alias of the fused sum
        ops[i] = ops[i].replace(inputs=(conv_t, conv_t))
        calls[i] = CCall("", None, alias_of=conv_t)
    return graph.replace(ops=tuple(ops)), calls


def live_bytes(graph: Graph, shares: dict[str, str], external=()) -> list[int]:
    """Activation bytes live at each step in the arena (tensors sharing storage counted once,
    tensors stored in `external` caller-owned inputs not at all)."""
    spans, rep = lifetimes(graph), storage_groups(graph, shares)
    size: dict[str, int] = {}
    for n in spans:
        size[rep[n]] = 0 if rep[n] in external else max(size.get(rep[n], 0),
                                                          graph.tensors[n].nbytes)
    live = []
    for i in range(len(graph.ops)):
        live.append(sum(size[r] for r in {rep[n] for n, (a, b) in spans.items() if a <= i <= b}))
    return live


def drop_peak_scratch(graph: Graph, calls: list[CCall], plan: Callable[[list], MemoryPlan],
                      shares: dict[str, str], external=()) -> tuple[list[CCall], MemoryPlan]:
    """Switch ops to scratch-free kernels until the arena is what it would be with none of
    the switchable scratch: first every op whose live bytes + scratch exceed that floor, then
    one by one (largest live + scratch first) while the arena stays above it."""
    best = plan(calls)
    alt = {i: c for i, c in ((i, without_scratch(c)) for i, c in enumerate(calls)) if c}
    if not alt:
        return calls, best
    floor = plan([alt.get(i, c) for i, c in enumerate(calls)]).arena_size
    if best.arena_size <= floor:
        return calls, best
    live = live_bytes(graph, shares, external)
    need = {i: live[i] + calls[i].scratch_bytes for i in alt}
    calls = [alt[i] if i in alt and need[i] > floor else c for i, c in enumerate(calls)]
    best = plan(calls)
    for i in sorted(alt, key=lambda i: -need[i]):
        if best.arena_size <= floor:
            break
        if calls[i] is not alt[i]:
            calls[i] = alt[i]
            best = plan(calls)
    return calls, best
