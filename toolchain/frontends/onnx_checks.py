"""Structural checks of an ONNX graph and of tensor sizes, before anything is converted or
allocated: a broken or hostile file fails with one clear line instead of compiling into
something wrong (two producers of one tensor, no outputs) or exhausting memory later."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

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
    for name in declared:
        if name not in producers:
            raise ModelError(f"{where}: graph output {name!r} is not produced by any node, "
                             "graph input or initializer")


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


# attributes that are flags (0 or 1), and window attributes that must be in [1, INT32_MAX]
FLAG_ATTRS = ("transA", "transB", "ceil_mode", "count_include_pad", "keepdims",
              "noop_with_empty_axes", "allowzero", "storage_order", "select_last_index")
WINDOW_OPS = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool")
WINDOW_ATTRS = ("kernel_shape", "strides", "dilations", "group")
INT32_MAX = (1 << 31) - 1


def node_problem(proto, opset: int, consts: Mapping[str, Any]) -> str | None:
    """What makes a default-domain node malformed against its ONNX schema (input and output
    counts, attribute names, types and flags, window sizes, a Conv `kernel_shape` its constant
    weights do not have), or None. Converters read only what they know, so a node with an extra
    input or a transB of 2**62 would otherwise compile into something the model never meant."""
    import onnx  # lazy: onnx is optional (fitml[onnx])

    try:
        schema = onnx.defs.get_schema(proto.op_type, opset, "")
    except Exception:   # not an ONNX op: the converter lookup names it
        return None
    op = proto.op_type
    for what, count, low, high in (("inputs", len(proto.input), schema.min_input,
                                    schema.max_input),
                                   ("outputs", len(proto.output), schema.min_output,
                                    schema.max_output)):
        if not low <= count <= high:
            want = f"{low}" if low == high else f"{low} to {high}"
            return f"has {count} {what}, {op} (opset {opset}) takes {want}"
    given = {a.name: a for a in proto.attribute}
    for name, spec in schema.attributes.items():
        if spec.required and name not in given:
            return f"lacks the required attribute {name!r}"
    for a in proto.attribute:
        spec = schema.attributes.get(a.name)
        if spec is None:
            return f"has attribute {a.name!r}, which {op} (opset {opset}) does not take"
        if a.type != int(spec.type):
            got = onnx.AttributeProto.AttributeType.Name(a.type)
            return f"attribute {a.name!r} is {got}, {op} takes {spec.type.name}"
        if a.name in FLAG_ATTRS and a.i not in (0, 1):
            return f"attribute {a.name}={a.i}, must be 0 or 1"
        values = list(a.ints) if a.type == onnx.AttributeProto.INTS else [a.i]
        if op in WINDOW_OPS and a.name in WINDOW_ATTRS and \
                not all(1 <= v <= INT32_MAX for v in values):
            return f"attribute {a.name}={values}: every value must be in [1, {INT32_MAX}]"
    weights = consts.get(proto.input[1]) if op == "Conv" and len(proto.input) > 1 else None
    if weights is not None and "kernel_shape" in given:
        kernel = list(given["kernel_shape"].ints)
        if kernel != list(np.shape(weights)[2:]):
            return f"kernel_shape {kernel} differs from the weights' {list(np.shape(weights))}"
    return None
