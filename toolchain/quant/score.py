"""How much a candidate loses against the float model: top-1 agreement, accuracy with labels,
and SNR of the scores, on held-out (or calibration) samples.

The SNR is taken on the logits when the model ends in SOFTMAX (the SOFTMAX input): a 2-class
softmax saturates near 0 and 1, where large logit errors barely move the output. The float
model runs once over the data; each candidate then runs once per sample.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Graph
from ..ops.interpreter import run_graph
from ..ops.quantize import quantize_float
from .accuracy import snr_db


REQUANTIZE = ("QUANTIZE", "DEQUANTIZE")   # a change of representation, not of meaning


def score_tensor(graph: Graph) -> str:
    """The tensor compared for SNR: the input of the SOFTMAX producing the first output (seen
    through (de)quantize ops: a 16x8 model's int16 SOFTMAX is followed by a QUANTIZE to its
    int8 output), else the first output."""
    out = graph.outputs[0]
    producer = {op.outputs[0]: op for op in graph.ops}
    op = producer.get(out)
    while op is not None and op.kind in REQUANTIZE:
        op = producer.get(op.inputs[0])
    return op.inputs[0] if op is not None and op.kind == "SOFTMAX" else out


@dataclass
class Reference:
    """The float model's answers on the evaluation samples."""
    samples: list
    labels: np.ndarray | None
    top1: np.ndarray
    scores: list[np.ndarray]

    @property
    def accuracy(self) -> float | None:
        return None if self.labels is None else float(np.mean(self.top1 == self.labels))


@dataclass
class Loss:
    agreement: float
    accuracy: float | None
    snr_db: float
    drop: float            # top-1 points lost: accuracy (labels) or agreement


def reference(float_graph: Graph, samples, labels=None) -> Reference:
    name = score_tensor(float_graph)
    top1, scores = [], []
    for inputs in samples:
        values = run_graph(float_graph, inputs, keep_all=True)
        top1.append(int(np.argmax(values[float_graph.outputs[0]])))
        scores.append(np.asarray(values[name], np.float64))
    labels = None if labels is None else np.asarray(labels).reshape(-1).astype(np.int64)
    return Reference(list(samples), labels, np.array(top1), scores)


def loss(ref: Reference, graph: Graph) -> Loss:
    """Compare an int8 graph (int8 or float I/O) with the float reference."""
    name = score_tensor(graph)
    t_in = [graph.tensors[n] for n in graph.inputs]
    t_score = graph.tensors[name]
    top1, signal, noise = [], 0.0, 0.0
    for inputs, want in zip(ref.samples, ref.scores):
        args = [x if t.dtype == "float32" else quantize_float(x, t.quant.s, t.quant.zp, t.dtype)
                for x, t in zip(inputs, t_in)]
        values = run_graph(graph, args, keep_all=True)
        top1.append(int(np.argmax(values[graph.outputs[0]])))
        got = np.asarray(values[name], np.float64)
        if t_score.dtype != "float32":
            got = (got - t_score.quant.zp) * t_score.quant.s
        signal += float(np.sum(want * want))
        noise += float(np.sum((want - got.reshape(want.shape)) ** 2))
    top1 = np.array(top1)
    agreement = float(np.mean(top1 == ref.top1))
    if ref.labels is None:
        return Loss(agreement, None, snr_db(signal, noise), 100.0 * (1.0 - agreement))
    acc = float(np.mean(top1 == ref.labels))
    return Loss(agreement, acc, snr_db(signal, noise), 100.0 * (ref.accuracy - acc))
