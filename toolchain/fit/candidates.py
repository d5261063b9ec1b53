"""The configurations `fitml fit` tries: int4 weights on the heaviest layers and channel
pruning ratios, in the order of the loss they are expected to cost (least lossy first); and
int16 activations on the noisiest layers (`int16_layers`, tried by search.py on the least lossy
candidates that lose too much).

int4 goes first to the layers that lose least per byte saved (search.py measures each heavy
layer alone in int4; default: heaviest first), in steps covering 50%, 75%, 90% and all of the
weight bytes; pruning removes 12.5%, 25% then 50% of the output
channels of the heaviest prunable layers (those covering 75% of the prunable layers' own and
their readers' weights), on top of each precision step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Graph
from ..quant import mixed
from .prune import prunable_layers

WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
INT4_STEPS = (0.0, 0.5, 0.75, 0.9, 1.0)
PRUNE_STEPS = (0.0, 0.125, 0.25, 0.5)
PRUNE_COVER = 0.75


@dataclass(frozen=True)
class Config:
    """One candidate: per-layer weight precision and per-layer pruning ratio."""
    precision: dict[str, str] = field(default_factory=dict)    # layer -> "int4"
    prune: dict[str, float] = field(default_factory=dict)      # layer -> ratio
    int4_share: float = 0.0        # fraction of weight bytes in int4 layers (for the name)
    prune_ratio: float = 0.0
    int16: tuple[str, ...] = ()    # layers whose activations are int16 (16x8)

    @property
    def activations(self) -> dict[str, str]:
        return {n: "int16" for n in self.int16}

    @property
    def name(self) -> str:
        parts = []
        if self.precision:
            parts.append("int4 all" if self.int4_share >= 0.999 else
                         f"int4 {len(self.precision)} layers ({100 * self.int4_share:.0f}% of w)")
        if self.prune:
            parts.append(f"prune {100 * self.prune_ratio:.0f}% x {len(self.prune)} layers")
        if self.int16:
            parts.append(f"int16 act {len(self.int16)} layer{'s' * (len(self.int16) > 1)}")
        return " + ".join(parts) or "int8"


def layer_weights(graph: Graph) -> dict[str, int]:
    """Weighted layers (output tensor name) -> filter elements (= int8 bytes), heaviest first."""
    sizes = {op.outputs[0]: graph.tensors[op.inputs[1]].size for op in graph.ops
             if op.kind in WEIGHTED and graph.tensors[op.inputs[1]].is_const}
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def heaviest(sizes: dict[str, int], share: float) -> list[str]:
    """The heaviest names whose sizes add up to at least `share` of the total."""
    total, acc, out = sum(sizes.values()), 0, []
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        if acc >= share * total - 1e-9 or share <= 0:
            break
        out.append(name)
        acc += size
    return out


def prune_targets(graph: Graph) -> list[str]:
    """Prunable layers carrying most of the bytes their channels hold (own + readers')."""
    prunable = prunable_layers(graph)
    if not prunable:
        return []
    sizes = layer_weights(graph)
    weight = {n: sizes.get(n, 0) + _downstream(graph, n, sizes) for n in prunable}
    return heaviest(weight, PRUNE_COVER)


def _downstream(graph: Graph, name: str, sizes: dict[str, int]) -> int:
    """Bytes of the weighted layers reading `name` (through channel-preserving ops)."""
    users = graph.consumers()
    total, todo, seen = 0, [name], set()
    while todo:
        t = todo.pop()
        for i in users.get(t, []):
            op = graph.ops[i]
            if op.outputs[0] in seen:
                continue
            seen.add(op.outputs[0])
            if op.kind in ("CONV_2D", "FULLY_CONNECTED"):
                total += sizes.get(op.outputs[0], 0)
            else:
                if op.kind == "DEPTHWISE_CONV_2D":
                    total += sizes.get(op.outputs[0], 0)
                todo.append(op.outputs[0])
    return total


def configs(graph: Graph, order: list[str] | None = None) -> list[Config]:
    """Every configuration to try, least lossy first, without duplicates. `order`: the layers
    in the order they should turn int4 (default: heaviest first)."""
    sizes = layer_weights(graph)
    total = max(sum(sizes.values()), 1)
    order = list(order or sizes)
    targets = prune_targets(graph)
    out, seen = [], set()
    for ratio in PRUNE_STEPS:
        if ratio and not targets:
            continue
        for share in INT4_STEPS:
            layers = prefix(order, sizes, share)
            key = (ratio, tuple(layers))
            if key in seen:
                continue
            seen.add(key)
            real = sum(sizes[n] for n in layers) / total
            out.append(Config({n: "int4" for n in layers},
                              {n: ratio for n in targets} if ratio else {}, real, ratio))
    return out


def prefix(order: list[str], sizes: dict[str, int], share: float) -> list[str]:
    """The shortest prefix of `order` holding at least `share` of the bytes."""
    total, acc, out = sum(sizes.values()), 0, []
    for name in order:
        if share <= 0 or acc >= share * total - 1e-9:
            break
        out.append(name)
        acc += sizes[name]
    return out


INT16_STEPS = (1, 2, 4, 8, 0)   # int16 prefix lengths of the noise order (0: all of it)


def int16_layers(graph: Graph, order: list[str], config: Config) -> list[list[str]]:
    """Growing sets of layers (prefixes of `order`, noisiest first) to make int16, skipping
    layers that would put an int4-weight layer in 16x8 (TFLite Micro has no such kernel)."""
    valid, int4 = set(mixed.layers(graph)), set(config.precision)
    usable: list[str] = []
    for name in order:
        if name not in valid:
            continue
        modes = mixed.plan(graph, {n: "int16" for n in usable + [name]})
        if not any(graph.ops[i].outputs[0] in int4 for i in modes.int16_ops):
            usable.append(name)
    out = []
    for k in INT16_STEPS:
        layers = usable[:k] if k else usable
        if layers and layers not in out:
            out.append(layers)
    return out
