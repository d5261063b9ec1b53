"""Structured pruning of a float graph: physically remove output channels of CONV_2D and
FULLY_CONNECTED layers, with everything that reads them (see `channels.py` for the groups).

Removing a group deletes filter rows and bias entries of its source layers, the matching
filter columns of the convolutions and FCs that read it, the depthwise channels and constant
per-channel operands it flows through, and shrinks every activation and flattening RESHAPE on
its way. The float outputs change by exactly the removed channels' contribution: the pruned
graph computes what the original computes with those channels' outputs forced to zero
(their weights and biases zeroed, depthwise biases included).

Importance of a group, lowest pruned first:
- "l1" / "l2": norm of each source channel's filter row, divided by the layer's mean norm;
- "activation" (data-driven, first-order Taylor-like): sum over the weighted layers reading
  the group of mean|a_c| (calibration data) x the norm of the weights that read channel c,
  an estimate of how much the group's removal moves those layers' outputs.
"""
from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..ir import Graph, Tensor
from ..ops.common import float_weights as dequantized
from ..ops.interpreter import run_graph
from ..quant.calibration import iter_samples
from .channels import SOURCES, ChannelGroups, analyze
from .rewrite import LayerChange, apply

CRITERIA = ("l1", "l2", "activation")


def float_weights(graph: Graph) -> Graph:
    """The graph with int8/int4 weights of float ops (hybrid models) dequantized to float32,
    so pruning, fine-tuning and PTQ see one kind of weights."""
    tensors = dict(graph.tensors)
    for op in graph.ops:
        x = graph.tensors[op.inputs[0]] if op.inputs and op.inputs[0] else None
        if op.kind not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") or x is None \
                or x.dtype != "float32":
            continue
        for name in op.inputs[1:3]:
            t = graph.tensors[name] if name else None
            if t is not None and t.is_const and t.dtype != "float32":
                data = dequantized(t, t.data).reshape(t.shape)
                tensors[name] = Tensor(name, t.shape, "float32", data)
    return graph.replace(tensors=tensors).validate()


def prunable_layers(graph: Graph) -> dict[str, int]:
    """Layers (output tensor name) with at least one removable channel -> their channels."""
    cg = analyze(graph)
    ops = {op_i for srcs in cg.prunable().values() for op_i, _ in srcs}
    return {graph.ops[i].outputs[0]: graph.tensors[graph.ops[i].outputs[0]].shape[-1]
            for i in sorted(ops)}


def channel_means(graph: Graph, samples) -> dict[str, np.ndarray]:
    """Mean |activation| per last-axis position of every float activation, over `samples`."""
    sums: dict[str, np.ndarray] = {}
    count = 0
    for inputs in iter_samples(samples, graph):
        values = run_graph(graph, inputs, keep_all=True)
        for n, t in graph.tensors.items():
            if not t.is_const and t.dtype == "float32" and t.shape:
                a = np.abs(np.asarray(values[n], np.float64)).reshape(-1, t.shape[-1])
                sums[n] = sums.get(n, 0.0) + a.mean(axis=0)
        count += 1
    if not count:
        raise UsageError("pruning: the calibration data holds no samples")
    return {n: s / count for n, s in sums.items()}


def importance(graph: Graph, cg: ChannelGroups, groups: dict[int, list], criterion: str,
               means: dict[str, np.ndarray] | None = None) -> dict[int, float]:
    """Score of every prunable group (higher: more important)."""
    if criterion not in CRITERIA:
        raise UsageError(f"pruning criterion {criterion!r}; supported: {', '.join(CRITERIA)}")
    if criterion == "activation":
        if means is None:
            raise UsageError("the activation criterion needs calibration data")
        return _contribution(graph, cg, groups, means)
    order = 1 if criterion == "l1" else 2
    norms = {}
    for op_i in {i for srcs in groups.values() for i, _ in srcs}:
        w = np.asarray(graph.tensors[graph.ops[op_i].inputs[1]].data, np.float64)
        n = np.linalg.norm(w.reshape(w.shape[0], -1), ord=order, axis=1)
        norms[op_i] = n / max(float(n.mean()), 1e-30)
    return {r: float(sum(norms[i][c] for i, c in srcs)) for r, srcs in groups.items()}


def _contribution(graph, cg, groups, means) -> dict[int, float]:
    score = dict.fromkeys(groups, 0.0)
    for op in graph.ops:
        if op.kind not in (*SOURCES, "DEPTHWISE_CONV_2D"):
            continue
        x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
        if x.is_const or not w.is_const or x.name not in means or w.shape[-1] != x.shape[-1]:
            continue
        wd = np.asarray(w.data, np.float64)
        col = np.linalg.norm(wd.reshape(-1, wd.shape[-1]), axis=0)
        for r, m, c in zip(cg.root(x.name), means[x.name], col):
            if int(r) in score:
                score[int(r)] += float(m * c)
    return score


def select(graph: Graph, ratios: dict[str, float], criterion: str = "l2", calib=None,
           means=None) -> tuple[ChannelGroups, set[int]]:
    """The groups to remove so that each named layer loses `ratio` of its output channels
    (the least important first; coupled layers lose the same groups; >= 1 channel stays)."""
    cg = analyze(graph)
    groups = cg.prunable()
    by_layer = {op.outputs[0]: i for i, op in enumerate(graph.ops)}
    for name, ratio in ratios.items():
        if name not in by_layer or graph.ops[by_layer[name]].kind not in SOURCES:
            raise UsageError(f"pruning: {name!r} is not the output of a CONV_2D or "
                             "FULLY_CONNECTED layer")
        if not 0.0 <= ratio < 1.0:
            raise UsageError(f"pruning ratio {ratio} for {name!r} must be in [0, 1)")
    if criterion == "activation" and means is None and calib is not None:
        means = channel_means(graph, calib)
    score = importance(graph, cg, groups, criterion, means)
    removed: set[int] = set()
    for name, ratio in ratios.items():
        op_i = by_layer[name]
        roots = cg.root(graph.ops[op_i].outputs[0])
        total = len(roots)
        want = min(int(np.floor(ratio * total + 1e-9)), total - 1)
        mine = sorted({int(r) for r in roots if int(r) in groups}, key=lambda r: score[r])
        for r in mine:
            if int(np.isin(roots, list(removed)).sum()) >= want:
                break
            removed.add(r)
    return cg, _keep_some(graph, cg, removed, score)


def _keep_some(graph, cg, removed: set[int], score) -> set[int]:
    """Give back the most important removed group of any tensor that would lose everything."""
    for name in cg.ids:
        roots = cg.root(name)
        if roots.size and np.isin(roots, list(removed)).all():
            removed.discard(max((int(r) for r in roots), key=lambda r: score.get(r, 0.0)))
    return removed


def prune_channels(graph: Graph, ratios: dict[str, float], criterion: str = "l2", calib=None,
                   means=None) -> tuple[Graph, list[LayerChange]]:
    """The pruned graph (validated) and the per-layer channel counts before and after."""
    cg, removed = select(graph, ratios, criterion, calib, means)
    return apply(graph, cg, removed)
