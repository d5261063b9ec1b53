"""Which channels of a float graph can be removed together: channel groups by union-find.

Every activation tensor's last-axis positions (NHWC channels; FC features) are nodes. Ops tie
the positions that must go together: a RELU or a pooling ties its input channel c to its
output channel c, a depthwise conv ties input channel ic to its outputs ic*dm+m, a residual
ADD ties channel c of both inputs and of the output, a CONCATENATION along channels ties each
input's channel to its place in the output, a flattening RESHAPE ties channel c to every
feature j with j % C == c. CONV_2D (ungrouped) and FULLY_CONNECTED start new groups: their
output channels are the *sources* a pruning removes; their input channels just lose filter
columns. A group is prunable when it holds a source and no blocked position (graph inputs and
outputs, and every op this analysis does not understand, such as SOFTMAX or TRANSPOSE).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir import Graph

SOURCES = ("CONV_2D", "FULLY_CONNECTED")
UNARY = {"RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "HARD_SWISH", "LOGISTIC", "TANH",
         "QUANTIZE", "DEQUANTIZE", "MAX_POOL_2D", "AVERAGE_POOL_2D", "PAD", "PADV2", "MEAN",
         "RESHAPE", "SQUEEZE"}
BINARY = {"ADD", "SUB", "MUL"}


@dataclass
class ChannelGroups:
    """Union-find over channel positions; `root(tensor)` gives each channel's group id."""

    graph: Graph
    ids: dict[str, np.ndarray] = field(default_factory=dict)   # tensor -> position ids
    parent: list[int] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)               # positions (not roots)
    sources: dict[int, tuple[int, int]] = field(default_factory=dict)  # position -> (op, c)

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def root(self, tensor: str) -> np.ndarray:
        return np.array([self.find(int(i)) for i in self.ids[tensor]], np.int64)

    def block(self, tensor: str) -> None:
        self.blocked.update(int(i) for i in self.ids.get(tensor, ()))

    def prunable(self) -> dict[int, list[tuple[int, int]]]:
        """Group root -> its source channels (op index, channel), for every prunable group."""
        bad = {self.find(i) for i in self.blocked}
        groups: dict[int, list[tuple[int, int]]] = {}
        for pos, src in self.sources.items():
            r = self.find(pos)
            if r not in bad:
                groups.setdefault(r, []).append(src)
        return groups


def analyze(graph: Graph) -> ChannelGroups:
    """The channel groups of a float graph (run the CLEANUP passes first: BN folded)."""
    cg = ChannelGroups(graph)
    for name, t in graph.tensors.items():
        if not t.is_const:
            n = t.shape[-1] if t.shape else 1
            cg.ids[name] = np.arange(len(cg.parent), len(cg.parent) + n)
            cg.parent.extend(range(len(cg.parent), len(cg.parent) + n))
    for name in (*graph.inputs, *graph.outputs):
        cg.block(name)
    for i, op in enumerate(graph.ops):
        if not _tie(cg, graph, i, op):
            for n in (*op.inputs, *op.outputs):
                if n and not graph.tensors[n].is_const:
                    cg.block(n)
    return cg


def _tie(cg: ChannelGroups, graph: Graph, index: int, op) -> bool:
    """Record what op `index` ties; False when it is not understood (its channels blocked)."""
    ins = [graph.tensors[n] if n else None for n in op.inputs]
    out = graph.tensors[op.outputs[0]]
    x = ins[0]
    if x is None or x.is_const or x.dtype != "float32" or len(op.outputs) != 1:
        return False
    if op.kind in SOURCES:
        w = ins[1]
        if w is None or not w.is_const or w.dtype != "float32":
            return False
        k = w.shape[-1]
        if op.kind == "CONV_2D" and x.shape[-1] != k:            # grouped convolution
            return False
        if x.shape[-1] != k or out.shape[-1] != w.shape[0]:      # FC reading a 4-D input
            return False
        for c, pos in enumerate(cg.ids[out.name]):
            cg.sources[int(pos)] = (index, c)
        return True
    if op.kind == "DEPTHWISE_CONV_2D":
        if ins[1] is None or not ins[1].is_const:
            return False
        dm = out.shape[-1] // x.shape[-1]
        for oc, pos in enumerate(cg.ids[out.name]):
            cg.union(int(cg.ids[x.name][oc // dm]), int(pos))
        return True
    if op.kind in BINARY:
        c = out.shape[-1]
        for t in ins[:2]:
            if t is None or t.is_const:
                continue
            if t.shape and t.shape[-1] == c:
                _tie_same(cg, t.name, out.name)
            elif t.shape and t.shape[-1] != 1:
                return False
        return True
    if op.kind == "CONCATENATION":
        if any(t is None or t.is_const for t in ins):
            return False
        rank = len(out.shape)
        if int(op.attr("axis", 0)) % rank == rank - 1:
            offset = 0
            for t in ins:
                for c, pos in enumerate(cg.ids[t.name]):
                    cg.union(int(pos), int(cg.ids[out.name][offset + c]))
                offset += t.shape[-1]
        else:
            for t in ins:
                _tie_same(cg, t.name, out.name)
        return True
    if op.kind in UNARY:
        return _tie_unary(cg, op, x, out, ins)
    return False


def _tie_same(cg: ChannelGroups, a: str, b: str) -> None:
    for pa, pb in zip(cg.ids[a], cg.ids[b]):
        cg.union(int(pa), int(pb))


def _tie_unary(cg: ChannelGroups, op, x, out, ins) -> bool:
    c_in, c_out = (x.shape[-1] if x.shape else 1), (out.shape[-1] if out.shape else 1)
    if op.kind in ("RESHAPE", "SQUEEZE"):
        if c_out % c_in:                            # splits channels: not followed
            return False
        for j, pos in enumerate(cg.ids[out.name]):
            cg.union(int(cg.ids[x.name][j % c_in]), int(pos))
        return True
    if op.kind in ("PAD", "PADV2"):
        pads = ins[1].data if ins[1] is not None and ins[1].is_const else None
        if pads is None or np.any(np.asarray(pads).reshape(-1, 2)[-1] != 0):
            return False
    if op.kind == "MEAN":
        axes = ins[1].data if ins[1] is not None and ins[1].is_const else None
        rank = len(x.shape)
        if axes is None or any(int(a) % rank == rank - 1 for a in np.ravel(axes)):
            return False
    if c_in != c_out:
        return False
    _tie_same(cg, x.name, out.name)
    return True
