"""Zero biases for bias-less CONV_2D and DEPTHWISE_CONV_2D: the .tflite writer's pass.

TFLite Micro runs them without a bias, but LiteRT's conv.cc (every resolver a phone app uses)
requires one (`has_bias was not true`), and its default resolver crashes on a two-input int8 or
float32 DEPTHWISE_CONV_2D. A zero bias of the dtype the converter would give computes the same
values: float32 for float and hybrid convs, int32 for int8 activations, int64 for 16x8 ones,
quantized per output channel with scale s_in * s_filter and zero point 0.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, QuantParams, Tensor
from .edit import unique_name, with_ops

BIAS_DTYPES = {"float32": "float32", "int8": "int32", "int16": "int64"}
CHANNEL_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3}     # output channels in the filter


def _zero_bias(graph: Graph, op: Op, name: str) -> Tensor | None:
    """The zero bias of a conv, or None when its input dtype has no bias dtype."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    dtype = BIAS_DTYPES.get(x.dtype)
    if dtype is None:
        return None
    channels = int(w.shape[CHANNEL_AXIS[op.kind]])
    data = np.zeros(channels, dtype)
    if dtype == "float32" or x.quant is None or w.quant is None:
        return Tensor(name, (channels,), dtype, data=data)
    scale = np.broadcast_to(np.float64(x.quant.s) * w.quant.scale.astype(np.float64), channels)
    return Tensor(name, (channels,), dtype, data=data,
                  quant=QuantParams(scale.astype(np.float32), np.zeros(channels, np.int64), 0))


def conv_zero_biases(graph: Graph) -> Graph:
    """Every CONV_2D / DEPTHWISE_CONV_2D without a bias gets a zero one (same values in every
    runtime)."""
    ops, added, taken = [], [], set()
    for op in graph.ops:
        bias = op.inputs[2] if len(op.inputs) > 2 else ""
        if op.kind in CHANNEL_AXIS and not bias and len(op.inputs) >= 2:
            name = unique_name(graph, f"{op.outputs[0]}_zero_bias", taken)
            tensor = _zero_bias(graph, op, name)
            if tensor is not None:
                taken.add(name)
                added.append(tensor)
                op = op.replace(inputs=(op.inputs[0], op.inputs[1], name, *op.inputs[3:]))
        ops.append(op)
    return with_ops(graph, ops, added) if added else graph
