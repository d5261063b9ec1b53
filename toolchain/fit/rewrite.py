"""Removing channel groups from a float graph: filters, biases, per-channel constants and
activation shapes sliced to the kept channels (the groups come from `channels.py`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Graph, Tensor
from ..passes.edit import prune as drop_dead
from .channels import SOURCES, ChannelGroups


@dataclass(frozen=True)
class LayerChange:
    """One source layer: output channels before and after pruning."""
    layer: str          # the layer's output tensor name
    kind: str
    before: int
    after: int


def apply(graph: Graph, cg: ChannelGroups, removed: set[int]) -> tuple[Graph, list[LayerChange]]:
    """Remove the given groups from the graph."""
    gone = list(removed)
    keep = {n: ~np.isin(cg.root(n), gone) for n in cg.ids}
    tensors = dict(graph.tensors)
    for n, k in keep.items():
        t = graph.tensors[n]
        if t.shape and not k.all():
            tensors[n] = t.replace(shape=t.shape[:-1] + (int(k.sum()),))
    ops, changes = [], []
    for i, op in enumerate(graph.ops):
        op = _rewrite(graph, i, op, keep, tensors)
        ops.append(op)
        if op.kind in SOURCES:
            before = graph.tensors[op.outputs[0]].shape[-1]
            after = tensors[op.outputs[0]].shape[-1]
            if after != before:
                changes.append(LayerChange(op.outputs[0], op.kind, before, after))
    out = drop_dead(graph.replace(tensors=tensors, ops=ops))
    return out.validate(), changes


def _rewrite(graph, index, op, keep, tensors):
    """The op with its constant operands sliced to the kept channels (new tensors added)."""
    x_keep = keep.get(op.inputs[0]) if op.inputs and op.inputs[0] in keep else None
    y_keep = keep[op.outputs[0]] if op.outputs[0] in keep else None
    inputs = list(op.inputs)

    def sliced(k: int, *cuts) -> None:
        """Input k keeps, along each (axis, mask) of `cuts`, the masked entries."""
        t = graph.tensors[inputs[k]]
        data = np.asarray(t.data)
        for axis, mask in cuts:
            if mask is not None and not mask.all():
                data = np.compress(mask, data, axis=axis % data.ndim)
        if data.shape != t.data.shape:
            name = f"{t.name}__pruned{index}"
            tensors[name] = Tensor(name, data.shape, t.dtype, data, t.quant)
            inputs[k] = name

    has_bias = len(inputs) > 2 and inputs[2]
    if op.kind in SOURCES:
        sliced(1, (-1, x_keep), (0, y_keep))
        if has_bias:
            sliced(2, (0, y_keep))
    elif op.kind == "DEPTHWISE_CONV_2D":
        sliced(1, (-1, y_keep))
        if has_bias:
            sliced(2, (0, y_keep))
    elif op.kind in ("ADD", "SUB", "MUL"):
        for k in (0, 1):
            t = graph.tensors[inputs[k]]
            if t.is_const and t.shape and y_keep is not None and t.shape[-1] == y_keep.size > 1:
                sliced(k, (-1, y_keep))
    elif op.kind == "RESHAPE":
        new = tensors[op.outputs[0]].shape
        if len(inputs) > 1 and inputs[1]:
            name = f"{inputs[1]}__pruned{index}"
            tensors[name] = Tensor(name, (len(new),), "int32", np.asarray(new, np.int32))
            inputs[1] = name
        if op.attr("new_shape") is not None:
            return op.replace(inputs=tuple(inputs), attrs=dict(op.attrs, new_shape=new))
    return op.replace(inputs=tuple(inputs))
