"""DSP weight layouts within the flash budget.

The DSP/MVE kernels read pre-widened int16 copies of some weights (`filter_dsp`: about twice the
int8 bytes, plus per-group records). They buy speed with flash, so they must never cost the
fit: when a target's constants cannot be placed in its flash regions (the main one, then those
weights may spill to: plan/regions.py), layouts are given up, largest first, until they can
(those layers run their int8 path, bit-exact, slower).
"""
from __future__ import annotations

from ..ir import Graph
from ..lowering.ccall import CArray, CCall, TensorRef
from ..lowering.cvariant import plain_layouts
from ..ops import registry
from ..ops.registry import Node
from ..plan.arena import align_up
from ..plan.regions import Layout, place_weights

WEIGHT_ALIGN, PARAM_ALIGN = 16, 4      # as model_weights.c.j2 aligns the arrays


def leaves(value):
    """Every CArray / TensorRef inside a call's params or args (nested dicts, lists)."""
    if isinstance(value, (CArray, TensorRef)):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from leaves(v)


def constant_arrays(graph: Graph, calls: list[CCall]) -> list[tuple[str, int, bool]]:
    """(key, footprint aligned as emitted, is_param) of every constant array the calls
    reference, each once, weights before parameter arrays (as the C backend emits them)."""
    seen: set = set()
    weights, params = [], []
    for call in calls:
        for leaf in [*leaves(call.params), *leaves(call.args)]:
            if isinstance(leaf, CArray):
                key, size, param = str(id(leaf)), leaf.values.nbytes, leaf.role != "weights"
            elif graph.tensors[leaf.name].is_const:
                key, size, param = leaf.name, graph.tensors[leaf.name].nbytes, False
            else:
                continue
            if key not in seen:
                seen.add(key)
                (params if param else weights).append(
                    (key, align_up(size, PARAM_ALIGN if param else WEIGHT_ALIGN), param))
    return weights + params


def flash_fits(layout: Layout, graph: Graph, calls: list[CCall]) -> bool:
    """The constants can be placed: what stays in the main flash region fits it."""
    arrays = constant_arrays(graph, calls)
    where = place_weights(layout, arrays)
    main = layout.main_flash
    return sum(size for key, size, _ in arrays if where[key] == main) <= layout.flashes[0][1]


def layout_bytes(call: CCall) -> int:
    """Bytes of the call's own DSP weight layout (0 without one)."""
    layout = call.params.get("filter_dsp") if isinstance(call.params, dict) else None
    return layout.values.nbytes if isinstance(layout, CArray) else 0


def fit_layouts(graph: Graph, calls: list[CCall], layout: Layout
                ) -> tuple[list[CCall], tuple[str, ...]]:
    """(calls, layers whose layout was given up) so the constants can be placed in the
    layout's flash regions, dropping the largest layouts first; unchanged when they fit."""
    if flash_fits(layout, graph, calls):
        return calls, ()
    order = sorted((i for i, c in enumerate(calls) if layout_bytes(c)),
                   key=lambda i: -layout_bytes(calls[i]))
    calls, plain = list(calls), []
    for i in order:
        op = graph.ops[i]
        plain.append(op.outputs[0])
        with plain_layouts(plain):
            calls[i] = registry.get(op.kind).lower_c(Node.of(graph, op))
        if flash_fits(layout, graph, calls):
            break
    return calls, tuple(plain)
