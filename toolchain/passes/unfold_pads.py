"""EXPLICIT padding back to what TFLite runs: the .tflite writer's pass.

A CONV_2D / DEPTHWISE_CONV_2D / MAX_POOL_2D whose `padding` is EXPLICIT (passes/fold_pads.py)
becomes SAME when that reads the same windows, else a PAD (PADV2 with the dtype's lowest value
before a max pool) followed by the op with VALID padding: the graph TFLite and TFLite Micro run
computes exactly what the folded op computes.
"""
from __future__ import annotations

import numpy as np

from ..arith import kernel_math as km
from ..ir import Graph, Op, Tensor
from .edit import unique_name, with_ops
from .fold_pads import padding_attrs, window


def _lowest(x: Tensor) -> Tensor:
    """PADV2's constant: the lowest value of x's dtype, in x's quantization."""
    value = -np.inf if x.dtype == "float32" else np.iinfo(x.dtype).min
    data = np.asarray([value], x.dtype)
    return Tensor("", data.shape, x.dtype, data=data, quant=x.quant)


def _unfold(graph: Graph, op: Op, taken: set[str]) -> tuple[list[Op], list[Tensor]]:
    """[PAD, op with VALID] (or [op with SAME]) for an EXPLICIT op, and the new tensors."""
    x = graph.tensors[op.inputs[0]]
    kernel, stride, dilation = window(graph, op)
    pads = tuple(tuple(int(v) for v in p) for p in op.attr("explicit_padding"))
    attrs = {k: v for k, v in op.attrs.items() if k != "explicit_padding"}
    attrs.update(padding_attrs(x.shape[1:3], kernel, stride, dilation, pads))
    if attrs["padding"] != "EXPLICIT":
        return [op.replace(attrs=attrs)], []
    out_hw = graph.tensors[op.outputs[0]].shape[1:3]
    pads = tuple(km.reached_pads(i, k, s, d, o, p[0]) for i, k, s, d, o, p in zip(
        x.shape[1:3], kernel, stride, dilation, out_hw, pads))
    name = unique_name(graph, f"{x.name}_pad", taken)
    taken.add(name)
    shape = (x.shape[0], x.shape[1] + sum(pads[0]), x.shape[2] + sum(pads[1]), x.shape[3])
    padded = x.replace(name=name, shape=shape, data=None)
    paddings = np.asarray([[0, 0], *pads, [0, 0]], np.int32)
    consts = [Tensor(unique_name(graph, f"{name}_paddings", taken), paddings.shape, "int32",
                     data=paddings)]
    kind = "PAD"
    if op.kind == "MAX_POOL_2D":
        consts.append(_lowest(x).replace(name=unique_name(graph, f"{name}_value", taken)))
        kind = "PADV2"
    taken.update(t.name for t in consts)
    pad = Op(kind, [x.name, *(t.name for t in consts)], [name], {}, op.name)
    attrs["padding"] = "VALID"
    return [pad, op.replace(inputs=[name, *op.inputs[1:]], attrs=attrs)], [padded, *consts]


def unfold_pads(graph: Graph) -> Graph:
    """Every EXPLICIT-padded op as SAME, or as PAD + the op with VALID padding."""
    if not any(op.attr("padding") == "EXPLICIT" for op in graph.ops):
        return graph
    ops, tensors, taken = [], [], set()
    for op in graph.ops:
        if op.attr("padding") != "EXPLICIT":
            ops.append(op)
            continue
        new_ops, new_tensors = _unfold(graph, op, taken)
        ops += new_ops
        tensors += new_tensors
    return with_ops(graph, ops, tensors)
