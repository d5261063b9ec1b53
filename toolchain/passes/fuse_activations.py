"""Activation fusion: a RELU / RELU6 / RELU_N1_TO_1 right after an op with a fused-activation
slot becomes that op's `activation`, when the intermediate tensor has no other reader and is
not a graph output. Float only: int8 activations may requantize, which a fused clamp cannot."""
from __future__ import annotations

import numpy as np

from ..ir import Graph
from .edit import apply_rules, merge_into_producer, producer_of, sole_consumer

HAS_ACTIVATION = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "ADD", "SUB",
                  "MUL",
                  "AVERAGE_POOL_2D", "MAX_POOL_2D")
CLAMPS = ("RELU", "RELU6", "RELU_N1_TO_1")
# (activation already fused, clamp applied after) -> the one fused activation doing both
COMBINED = {("NONE", "RELU"): "RELU", ("NONE", "RELU6"): "RELU6",
            ("NONE", "RELU_N1_TO_1"): "RELU_N1_TO_1", ("RELU", "RELU"): "RELU",
            ("RELU", "RELU6"): "RELU6", ("RELU6", "RELU"): "RELU6",
            ("RELU6", "RELU6"): "RELU6", ("RELU_N1_TO_1", "RELU_N1_TO_1"): "RELU_N1_TO_1"}


def _clamp_of(graph: Graph, op) -> tuple[str, str] | None:
    """(clamp kind, data input) of a standalone clamp op, or of ADD(x, 0) carrying one (the
    form frontends use for RELU_N1_TO_1, which has no standalone TFLM kernel)."""
    if op.kind in CLAMPS:
        return op.kind, op.inputs[0]
    if op.kind == "ADD" and op.attr("activation", "NONE") in CLAMPS:
        zero = graph.tensors[op.inputs[1]]
        x = graph.tensors[op.inputs[0]]
        out = graph.tensors[op.outputs[0]]
        if zero.is_const and not np.any(zero.data) and x.shape == out.shape:
            return op.attr("activation"), op.inputs[0]
    return None


def fuse_clamp(graph, i, users):
    """producer(x) -> clamp  =>  producer(x) with the clamp as its fused activation."""
    clamp = _clamp_of(graph, graph.ops[i])
    if clamp is None:
        return None
    kind, x = clamp
    src = producer_of(users, x)
    if src is None or sole_consumer(graph, x, users) != i:
        return None
    p = graph.ops[src]
    fused = COMBINED.get((p.attr("activation", "NONE"), kind))
    if p.kind not in HAS_ACTIVATION or fused is None or graph.tensors[x].dtype != "float32":
        return None
    return merge_into_producer(graph, src, i, p.replace(attrs=dict(p.attrs, activation=fused)))


RULES = [
    fuse_clamp,   # CONV/DEPTHWISE/FC/ADD/SUB/MUL/pools + RELU|RELU6|RELU_N1_TO_1 -> activation
]


def fuse_activations(graph: Graph) -> Graph:
    return apply_rules(graph, RULES)
