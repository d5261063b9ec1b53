"""Generated models for benchmarks/scale.py: MobileNetV2-like float graphs of a chosen weight
size and op count, built directly as fitml IR (no framework, seconds to make), and their int8
versions from fitml's PTQ.

Shape: input 32x32x3, a 3x3 stride-2 stem conv, inverted residual blocks (1x1 expand x4,
3x3 depthwise, 1x1 project, residual ADD; ReLU6 fused) over three resolutions 16x16, 8x8 and
4x4 with widths c/4, c/2 and c (a stride-2 depthwise and a 1x1 conv between resolutions), then
MEAN over H, W and two FULLY_CONNECTED layers (c -> 2c -> 10). The width c is solved from the
weight budget, the block count from the op count, so conv, depthwise, FC and residual ADD
ops all grow with the model. Weights are seeded He-scaled values.
"""
from __future__ import annotations

import math

import numpy as np

from toolchain.ir import Graph, Op, Tensor

INPUT = (1, 32, 32, 3)
EXPAND = 4
FIXED_OPS = 1 + 2 * 2 + 3          # stem, two transitions (dw + conv), MEAN + 2 FC


class _Builder:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []

    def act(self, shape) -> str:
        name = f"t{len(self.tensors)}"
        self.tensors[name] = Tensor(name, shape, "float32")
        return name

    def const(self, array: np.ndarray) -> str:
        name = f"c{len(self.tensors)}"
        self.tensors[name] = Tensor(name, array.shape, str(array.dtype), data=array)
        return name

    def weights(self, shape, fan_in: int) -> str:
        w = self.rng.standard_normal(shape, np.float32) * np.float32(math.sqrt(2.0 / fan_in))
        return self.const(w)

    def bias(self, n: int) -> str:
        return self.const((0.05 * self.rng.standard_normal(n)).astype(np.float32))

    def op(self, kind: str, inputs, shape, attrs) -> str:
        out = self.act(shape)
        self.ops.append(Op(kind, list(inputs), [out], attrs, f"{kind.lower()}_{len(self.ops)}"))
        return out

    def conv(self, x: str, cout: int, k: int = 1, stride: int = 1, relu6: bool = True) -> str:
        n, h, w, cin = self.tensors[x].shape
        shape = (n, -(-h // stride), -(-w // stride), cout)
        return self.op("CONV_2D", [x, self.weights((cout, k, k, cin), k * k * cin),
                                   self.bias(cout)], shape,
                       {"stride": (stride, stride), "padding": "SAME",
                        "activation": "RELU6" if relu6 else "NONE"})

    def depthwise(self, x: str, stride: int = 1) -> str:
        n, h, w, c = self.tensors[x].shape
        shape = (n, -(-h // stride), -(-w // stride), c)
        return self.op("DEPTHWISE_CONV_2D", [x, self.weights((1, 3, 3, c), 9), self.bias(c)],
                       shape, {"stride": (stride, stride), "padding": "SAME",
                               "depth_multiplier": 1, "activation": "RELU6"})

    def block(self, x: str) -> str:
        c = self.tensors[x].shape[3]
        y = self.conv(self.depthwise(self.conv(x, EXPAND * c)), c, relu6=False)
        return self.op("ADD", [x, y], self.tensors[x].shape, {"activation": "NONE"})

    def fc(self, x: str, units: int, relu: bool) -> str:
        cin = self.tensors[x].shape[-1]
        return self.op("FULLY_CONNECTED", [x, self.weights((units, cin), cin),
                                           self.bias(units)], (1, units),
                       {"activation": "RELU" if relu else "NONE"})


def widths(c: int) -> tuple[int, int, int]:
    return tuple(max(4, int(c * f) // 4 * 4) for f in (0.25, 0.5, 1.0))


def params(c: int, blocks: int) -> int:
    """Weights and biases of the model with width c and `blocks` blocks per resolution."""
    per_block = lambda w: 2 * EXPAND * w * w + 9 * EXPAND * w + 6 * EXPAND * w + w  # noqa
    a, b, d = widths(c)
    total = 27 * a + a + sum(blocks * per_block(w) for w in (a, b, d))
    total += (9 + 1) * a + a * b + b + (9 + 1) * b + b * d + d        # transitions
    return total + d * 2 * d + 2 * d + 2 * d * 10 + 10


def shape_for(weight_bytes: int, ops: int, itemsize: int) -> tuple[int, int]:
    """(width c, blocks per resolution) for about `weight_bytes` of weights and `ops` ops."""
    blocks = max(0, round((ops - FIXED_OPS) / 12))
    lo, hi = 4, 8192
    while hi - lo > 4:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if params(mid, blocks) * itemsize < weight_bytes else (lo, mid)
    return lo, blocks


def float_model(weight_bytes: int, ops: int, seed: int = 0, itemsize: int = 1) -> Graph:
    """The float32 graph whose int8 weights (itemsize 1; 4 for the float weights) take about
    `weight_bytes` bytes, with about `ops` ops."""
    c, blocks = shape_for(weight_bytes, ops, itemsize)
    b = _Builder(seed)
    x = b.act(INPUT)
    y = b.conv(x, widths(c)[0], k=3, stride=2)
    for i, w in enumerate(widths(c)):
        if i:
            y = b.conv(b.depthwise(y, stride=2), w)
        for _ in range(blocks):
            y = b.block(y)
    axes = b.const(np.array([1, 2], np.int32))
    y = b.op("MEAN", [y, axes], (1, widths(c)[2]), {"keep_dims": False})
    y = b.fc(b.fc(y, 2 * widths(c)[2], relu=True), 10, relu=False)
    return Graph.build(b.tensors.values(), b.ops, [x], [y],
                       {"name": f"scale_c{c}_b{blocks}"}).validate()


def calibration(count: int, seed: int = 1) -> np.ndarray:
    """`count` seeded float inputs in [-1, 1], stacked [count, 32, 32, 3]."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, (count,) + INPUT[1:]).astype(np.float32)


def weight_bytes(graph: Graph) -> int:
    """Bytes of the constant tensors (weights, biases, axes) as stored in the graph."""
    return sum(t.nbytes for t in graph.tensors.values() if t.is_const)
