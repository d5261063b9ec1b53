"""Float vs int8 on held-out data: top-1 agreement, accuracy with labels, output SNR, and a
per-layer table (SNR of each dequantized int8 intermediate against the float one) that points
at the layer whose quantization hurts most.

A layer's own harm is the noise it adds: its output noise-to-signal ratio minus the worst NSR of
its inputs (noise already present passes through at about the same NSR). Comparing SNR drops
instead would blame the first layer for any error at all after a near-exact input.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..ir import Graph
from ..ops.interpreter import run_graph
from ..ops.quantize import quantize_float
from .calibration import iter_samples, progress_bar


@dataclass
class LayerError:
    index: int          # op index in the int8 graph
    kind: str
    tensor: str         # the op's output (float graph name)
    snr_db: float       # output SNR, dequantized int8 vs float, over all samples
    added_db: float     # 10 log10(output NSR - worst input NSR): noise this layer adds


@dataclass
class AccuracyReport:
    samples: int
    top1_agreement: float
    float_accuracy: float | None
    int8_accuracy: float | None
    output_snr_db: list[float]
    layers: list[LayerError] = field(default_factory=list)

    @property
    def worst(self) -> LayerError | None:
        """The layer adding the most noise (the one that hurts most)."""
        return max(self.layers, key=lambda l: l.added_db, default=None)

    def table(self) -> str:
        """A human-readable summary and per-layer table, the worst layer marked."""
        lines = [f"samples {self.samples}  top-1 agreement {100 * self.top1_agreement:.2f}%"]
        if self.float_accuracy is not None:
            lines.append(f"accuracy float {100 * self.float_accuracy:.2f}%  int8 "
                         f"{100 * self.int8_accuracy:.2f}%")
        lines.append("output SNR " + ", ".join(f"{s:.1f} dB" for s in self.output_snr_db))
        worst = self.worst
        lines.append(f"{'op':>4}  {'kind':<18} {'SNR dB':>8} {'added dB':>9}  tensor")
        for l in self.layers:
            mark = "  <- worst" if l is worst else ""
            lines.append(f"{l.index:>4}  {l.kind:<18} {l.snr_db:>8.1f} {l.added_db:>9.1f}  "
                         f"{l.tensor[:48]}{mark}")
        return "\n".join(lines)


def snr_db(signal_power: float, noise_power: float) -> float:
    if noise_power == 0:
        return math.inf
    if signal_power == 0:
        return -math.inf
    return 10.0 * math.log10(signal_power / noise_power)


def _float_names(int8_graph: Graph, float_names) -> dict[str, str]:
    """int8 tensor -> the float tensor it stands for (QUANTIZE/DEQUANTIZE at float I/O, and
    the int8 <-> int16 copies of mixed-precision graphs)."""
    names = {n: n for n in int8_graph.tensors}
    for op in int8_graph.ops:
        ins, outs = int8_graph.op_inputs(op), int8_graph.op_outputs(op)
        if op.kind == "QUANTIZE" and op.outputs[0] not in float_names:
            names[op.outputs[0]] = names[op.inputs[0]]
        elif op.kind == "QUANTIZE" and outs[0].dtype == "int8" and ins[0].dtype == "int16":
            names[op.inputs[0]] = names[op.outputs[0]]   # a 16x8 op's output, then int8
        elif op.kind == "DEQUANTIZE" and outs[0].dtype == "float32":
            names[op.inputs[0]] = op.outputs[0]
    return names


def _dequantized(t, value: np.ndarray) -> np.ndarray:
    if t.dtype == "float32":
        return np.asarray(value, np.float64)
    return (np.asarray(value, np.float64) - t.quant.zp) * t.quant.s


def evaluate(float_graph: Graph, int8_graph: Graph, data, labels=None,
             per_layer: bool = True, progress: bool | None = None) -> AccuracyReport:
    """Compare the float and int8 graphs on `data` (same forms as calibration data)."""
    names = _float_names(int8_graph, float_graph.tensors)
    tracked = [n for n, t in int8_graph.tensors.items() if not t.is_const
               and names[n] in float_graph.tensors and t.dtype in ("int8", "int16", "float32")
               and float_graph.tensors[names[n]].dtype == "float32"
               and (per_layer or names[n] in float_graph.outputs)]
    power = {n: [0.0, 0.0] for n in tracked}          # sum f^2, sum (f - q)^2
    agree = hits_f = hits_q = count = 0
    labels = None if labels is None else np.asarray(labels).reshape(-1)
    for inputs in progress_bar(iter_samples(data, float_graph), progress, "evaluating"):
        fvals = run_graph(float_graph, inputs, keep_all=True)
        qin = [x if t.dtype == "float32" else quantize_float(x, t.quant.s, t.quant.zp, t.dtype)
               for x, t in zip(inputs, (int8_graph.tensors[n] for n in int8_graph.inputs))]
        qvals = run_graph(int8_graph, qin, keep_all=True)
        for n in tracked:
            f = np.asarray(fvals[names[n]], np.float64)
            d = f - _dequantized(int8_graph.tensors[n], qvals[n]).reshape(f.shape)
            power[n][0] += float(np.sum(f * f))
            power[n][1] += float(np.sum(d * d))
        top_f = int(np.argmax(fvals[float_graph.outputs[0]]))
        top_q = int(np.argmax(qvals[int8_graph.outputs[0]]))
        agree += top_f == top_q
        if labels is not None:
            hits_f += top_f == int(labels[count])
            hits_q += top_q == int(labels[count])
        count += 1
    snr = {n: snr_db(*power[n]) for n in tracked}
    by_float = {names[n]: n for n in tracked}
    by_float.update({n: n for n in tracked if n in float_graph.tensors})
    outputs = [snr[by_float[n]] for n in float_graph.outputs if n in by_float]
    return AccuracyReport(count, agree / max(count, 1),
                          None if labels is None else hits_f / max(count, 1),
                          None if labels is None else hits_q / max(count, 1),
                          outputs, _layers(int8_graph, snr, names) if per_layer else [])


def _layers(graph: Graph, snr: dict[str, float], names: dict[str, str]) -> list[LayerError]:
    """One row per op whose output has a float twin (QUANTIZE/DEQUANTIZE at the I/O aside)."""
    def nsr(n: str) -> float:
        return 10.0 ** (-snr[n] / 10.0)
    rows = []
    for i, op in enumerate(graph.ops):
        out = op.outputs[0]
        if out not in snr or op.kind in ("QUANTIZE", "DEQUANTIZE"):
            continue
        before = max((nsr(n) for n in op.inputs if n in snr), default=0.0)
        added = nsr(out) - before
        rows.append(LayerError(i, op.kind, names[out], snr[out],
                               10.0 * math.log10(added) if added > 0 else -math.inf))
    return rows
