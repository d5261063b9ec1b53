"""BatchNorm folding: a per-channel MUL by a constant (scale) or ADD/SUB of a constant
(shift) right after a float CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED or TRANSPOSE_CONV is
folded into its filter and bias. Frontends lower inference BatchNorm (and bias adds) to
exactly these ops."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Tensor
from .edit import apply_rules, merge_into_producer, producer_of, sole_consumer, unique_name

# filter axis holding the output channels, per foldable producer kind
CHANNEL_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0,
                "TRANSPOSE_CONV": 0}
BIAS_SLOT = {"TRANSPOSE_CONV": 3}     # others: 2 (TRANSPOSE_CONV: output_shape, filter, input)


def _match(graph: Graph, i: int, users, kinds):
    """(producer index, per-channel constant [C]) when op i is `kinds` of a foldable op's
    output and a constant that varies along the last axis only."""
    op = graph.ops[i]
    if op.kind not in kinds or len(op.inputs) != 2:
        return None
    for x, c in ((0, 1), (1, 0)):
        if op.kind == "SUB" and x == 1:
            break   # c - conv(x) does not fold
        src = producer_of(users, op.inputs[x])
        ct = graph.tensors[op.inputs[c]]
        if src is None or not ct.is_const or sole_consumer(graph, op.inputs[x], users) != i:
            continue
        p = graph.ops[src]
        y = graph.tensors[op.inputs[x]]
        if (p.kind not in CHANNEL_AXIS or p.attr("activation", "NONE") != "NONE"
                or y.dtype != "float32" or graph.tensors[op.outputs[0]].shape != y.shape
                or not graph.tensors[p.inputs[1]].is_const):
            continue
        channels = y.shape[-1]
        data = np.asarray(ct.data, np.float64)
        if data.ndim > len(y.shape) or any(d != 1 for d in data.shape[:-1]) or (
                data.size not in (1, channels)):
            continue
        return src, np.broadcast_to(data.reshape(-1), (channels,))
    return None


def _bias(graph: Graph, p) -> np.ndarray:
    slot = BIAS_SLOT.get(p.kind, 2)
    name = p.inputs[slot] if len(p.inputs) > slot else ""
    w = graph.tensors[p.inputs[1]]
    channels = w.shape[CHANNEL_AXIS[p.kind]]
    return np.asarray(graph.tensors[name].data, np.float64) if name else np.zeros(channels)


def _fold(graph, i, src, weights, bias):
    p, consumer = graph.ops[src], graph.ops[i]
    new = []
    bias_slot = BIAS_SLOT.get(p.kind, 2)
    names = list(p.inputs) + [""] * (bias_slot + 1 - len(p.inputs))
    for slot, data in ((1, weights), (bias_slot, bias)):
        if data is not None:
            base = (names[slot] or f"{p.outputs[0]}_bias").removesuffix("_folded")
            name = unique_name(graph, f"{base}_folded", [t.name for t in new])
            arr = np.ascontiguousarray(data, np.float32)
            new.append(Tensor(name, arr.shape, "float32", arr))
            names[slot] = name
    attrs = dict(p.attrs, activation=consumer.attr("activation", "NONE"))
    return merge_into_producer(graph, src, i, p.replace(inputs=names, attrs=attrs), new)


def fold_scale(graph, i, users):
    """conv(x) * c[C] -> conv with filter and bias scaled per output channel."""
    m = _match(graph, i, users, ("MUL",))
    if m is None:
        return None
    src, scale = m
    p = graph.ops[src]
    w = np.asarray(graph.tensors[p.inputs[1]].data, np.float64)
    shape = [1] * w.ndim
    shape[CHANNEL_AXIS[p.kind]] = -1
    return _fold(graph, i, src, w * scale.reshape(shape), _bias(graph, p) * scale)


def fold_shift(graph, i, users):
    """conv(x) + c[C] (or - c[C]) -> conv with c added to (subtracted from) the bias."""
    m = _match(graph, i, users, ("ADD", "SUB"))
    if m is None:
        return None
    src, shift = m
    sign = -1.0 if graph.ops[i].kind == "SUB" else 1.0
    return _fold(graph, i, src, None, _bias(graph, graph.ops[src]) + sign * shift)


RULES = [
    fold_scale,   # BatchNorm scale (x * gamma / sqrt(var + eps)) into the filter and bias
    fold_shift,   # BatchNorm shift and plain bias adds into the bias
]


def fold_batchnorm(graph: Graph) -> Graph:
    return apply_rules(graph, RULES)
