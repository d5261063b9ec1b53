"""Structural checks of an ONNX graph and of tensor sizes, before anything is converted or
allocated: a broken or hostile file fails with one clear line instead of compiling into
something wrong (two producers of one tensor, no outputs) or exhausting memory later."""
from __future__ import annotations

from typing import Sequence

from ..errors import ModelError

MAX_TENSOR_ELEMENTS = 1 << 26    # 256 MiB of float32: far beyond any microcontroller


def check_structure(graph, where: str) -> None:
    """Outputs exist; every tensor has one producer (a node, a graph input or an
    initializer); names are unique."""
    if not graph.output:
        raise ModelError(f"{where}: the model declares no outputs; nothing to compile")
    producers: dict[str, str] = {}
    for t in graph.initializer:
        _claim(producers, t.name, "an initializer", where)
    inits = set(producers)
    for vi in graph.input:
        if vi.name not in inits:   # IR < 4 lists initializers as inputs too
            _claim(producers, vi.name, "a graph input", where)
    for node in graph.node:
        name = node.name or f"{node.op_type}({node.output[0] if node.output else '?'})"
        for out in node.output:
            if out:
                _claim(producers, out, f"node {name!r} ({node.op_type})", where)
    declared = [o.name for o in graph.output]
    if len(set(declared)) != len(declared):
        raise ModelError(f"{where}: a graph output is declared twice: {declared}")


def _claim(producers: dict, tensor: str, producer: str, where: str) -> None:
    if tensor in producers:
        raise ModelError(f"{where}: tensor {tensor!r} is written by both {producers[tensor]} "
                         f"and {producer}; every tensor must have exactly one producer")
    producers[tensor] = producer


def check_elements(shape: Sequence[int], what: str) -> None:
    """Every dim >= 1 and at most MAX_TENSOR_ELEMENTS elements: checked with Python ints
    before any array of this shape exists. `what` names the tensor for the message."""
    dims = [int(d) for d in shape]
    if any(d < 1 for d in dims):
        raise ModelError(f"{what} has shape {dims}: every dimension must be at least 1")
    count = 1
    for d in dims:
        count *= d
    if count > MAX_TENSOR_ELEMENTS:
        raise ModelError(f"{what} has shape {dims} = {count:,} elements, more than fitml "
                         f"supports ({MAX_TENSOR_ELEMENTS:,})")
