"""Helpers of the partitioning tests (tests/test_partition_*.py): random small NHWC CNNs (int8
or float32) and random stages over them, the reference comparison, the shared model paths."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from oplab import assert_close, assert_exact
from toolchain.ir import Graph, GraphError, Op, QuantParams, Tensor
from toolchain.ops.windows import output_hw
from toolchain.passes.partition import apply
from toolchain.ops.interpreter import run_graph

needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")
VWW = "mlperf_tiny/vww/vww_96_int8.tflite"
IC = "mlperf_tiny/ic/pretrainedResnet_quant.tflite"
KWS = "mlperf_tiny/kws/kws_ref_model_int8.tflite"


class CNN:
    """A random NHWC CNN built op by op (int8 with per-channel weights, or float32). int8 output
    scales follow the accumulators' expected spread (about 40 steps of standard deviation), so
    activations stay varied instead of saturating."""

    SPREAD = 40.0

    def __init__(self, rng, shape, dtype="int8"):
        self.rng, self.dtype, self.tensors, self.ops, self.n = rng, dtype, [], [], 0
        self.x = self.act(shape, scale=0.05, zp=int(rng.integers(-10, 11)))
        self.inputs = [self.x.name]
        self.sigma = {self.x.name: 74.0}      # std of the codes around the zero point

    def act(self, shape, scale=None, zp=None) -> Tensor:
        self.n += 1
        quant = None
        if self.dtype == "int8":
            quant = QuantParams(scale, int(self.rng.integers(-20, 21)) if zp is None else zp)
        t = Tensor(f"t{self.n}", tuple(shape), self.dtype, quant=quant)
        self.tensors.append(t)
        return t

    def const(self, data, scale=None, axis=None) -> Tensor:
        self.n += 1
        quant = None if scale is None else QuantParams(np.asarray(scale, np.float32),
                                                       np.zeros(np.size(scale), np.int64), axis)
        t = Tensor(f"c{self.n}", data.shape, str(data.dtype), data=data, quant=quant)
        self.tensors.append(t)
        return t

    def add_op(self, kind, ins, attrs, out_shape, sigma=SPREAD, **quant) -> Tensor:
        out = self.act(out_shape, **quant)
        self.ops.append(Op(kind, [t.name if t is not None else "" for t in ins], [out.name],
                           attrs))
        self.sigma[out.name] = sigma
        return out

    def conv(self, x, depthwise: bool) -> Tensor | None:
        r = self.rng
        kh, kw = int(r.integers(1, 4)), int(r.integers(1, 4))
        stride = tuple(int(v) for v in r.choice([1, 2], 2, p=[0.7, 0.3]))
        dil = (int(r.integers(1, 3)), 1) if r.random() < 0.2 else (1, 1)
        padding = "SAME" if r.random() < 0.7 else "VALID"
        c = x.shape[3]
        dm = int(r.integers(1, 3)) if depthwise else 1
        cout = c * dm if depthwise else int(r.integers(1, 6))
        try:
            oh, ow = output_hw("T", x.shape[1:3], (kh, kw), stride, dil, padding)
        except GraphError:
            return None
        wshape = (1, kh, kw, cout) if depthwise else (cout, kh, kw, c)
        attrs = dict(padding=padding, stride=stride, dilation=dil,
                     activation=str(r.choice(["NONE", "RELU", "RELU6"])))
        if depthwise:
            attrs["depth_multiplier"] = dm
        kind = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
        if self.dtype == "int8":
            w = self.const(r.integers(-127, 128, wshape).astype(np.int8),
                           r.uniform(0.002, 0.02, cout), 3 if depthwise else 0)
            s_acc = x.quant.s * float(np.mean(w.quant.scale))
            b = self.const(r.integers(-3000, 3001, cout).astype(np.int32), s_acc * np.ones(cout),
                           0)
            taps = kh * kw * (1 if depthwise else c)
            spread = np.sqrt(taps) * 73.0 * self.sigma[x.name]
            return self.add_op(kind, [x, w, b], attrs, (1, oh, ow, cout),
                               scale=s_acc * spread / self.SPREAD)
        w = self.const(r.standard_normal(wshape).astype(np.float32))
        b = self.const(r.standard_normal(cout).astype(np.float32)) if r.random() < 0.7 else None
        return self.add_op(kind, [x, w, b], attrs, (1, oh, ow, cout))

    def pool(self, x) -> Tensor | None:
        r = self.rng
        filt, stride = (int(r.integers(1, 4)), int(r.integers(1, 4))), (int(r.integers(1, 3)),) * 2
        padding = "SAME" if r.random() < 0.6 else "VALID"
        try:
            oh, ow = output_hw("T", x.shape[1:3], filt, stride, (1, 1), padding)
        except GraphError:
            return None
        q = {} if self.dtype != "int8" else dict(scale=x.quant.s, zp=x.quant.zp)
        return self.add_op("MAX_POOL_2D", [x], dict(padding=padding, stride=stride, filter=filt,
                                                    activation="NONE"), (1, oh, ow, x.shape[3]),
                           self.sigma[x.name], **q)

    def add(self, x, y) -> Tensor:
        q = {} if self.dtype != "int8" else dict(scale=max(x.quant.s, y.quant.s) * 1.5)
        return self.add_op("ADD", [x, y], dict(activation="NONE"), x.shape, **q)

    def graph(self, out: Tensor) -> Graph:
        graph = Graph.build(self.tensors, self.ops, self.inputs, [out.name]).validate()
        return graph if self.dtype != "int8" else calibrate(graph, self.rng)


def calibrate(graph: Graph, rng) -> Graph:
    """Output scales adjusted op by op on one random input until the codes neither saturate
    (<= 5%) nor collapse (std >= 12 steps): otherwise a wrong tap could hide in a clamp."""
    x = rng.integers(-128, 128, graph.tensors[graph.inputs[0]].shape).astype(np.int8)
    tensors = dict(graph.tensors)
    for op in graph.ops:
        name = op.outputs[0]
        if op.kind == "MAX_POOL_2D":           # TFLM: output quantization = input's
            tensors[name] = tensors[name].replace(quant=tensors[op.inputs[0]].quant)
            continue
        for _ in range(10):
            v = run_graph(graph.replace(tensors=tensors), [x], keep_all=True)[name]
            q = tensors[name].quant
            factor = 2.0 if np.mean((v == 127) | (v == -128)) > 0.05 else \
                0.5 if np.std(v.astype(np.float64)) < 12 else None
            if factor is None:
                break
            tensors[name] = tensors[name].replace(quant=QuantParams(q.s * factor, q.zp))
    return graph.replace(tensors=tensors).validate()


def random_cnn(seed: int, dtype="int8") -> Graph:
    """4 to 7 spatial ops; same-shape tensors may meet again in an ADD (residual branches)."""
    rng = np.random.default_rng(seed)
    net = CNN(rng, (1, int(rng.integers(8, 17)), int(rng.integers(8, 17)),
                    int(rng.integers(1, 5))), dtype)
    x, seen = net.x, [net.x]
    while len(net.ops) < int(rng.integers(4, 8)):
        kind = rng.choice(["conv", "dw", "pool", "add"], p=[0.4, 0.3, 0.1, 0.2])
        same = [t for t in seen[:-1] if t.shape == x.shape]
        if kind == "add" and same:
            y = net.add(x, same[int(rng.integers(len(same)))])
        elif kind == "add":
            continue
        else:
            y = net.pool(x) if kind == "pool" else net.conv(x, kind == "dw")
        if y is not None:
            x = y
            seen.append(y)
    return net.graph(x)


def random_stages(graph: Graph, rng, count: int):
    """(start, end, grid, partitioned graph) of valid stages, each at most once."""
    seen, out = set(), []
    for _ in range(200):
        a = int(rng.integers(0, len(graph.ops)))
        b = int(rng.integers(a, len(graph.ops)))
        y = graph.tensors[graph.ops[b].outputs[0]]
        g = (int(rng.integers(1, min(y.shape[1], 8) + 1)), int(rng.integers(1, min(y.shape[2],
                                                                                      8) + 1)))
        if (a, b, g) in seen:
            continue
        seen.add((a, b, g))
        new = apply(graph, a, b, g)
        if new is not None:
            out.append((a, b, g, new.validate()))
        if len(out) == count:
            break
    return out


def check_reference(graph: Graph, new: Graph, rng, label: str, cases: int = 2) -> None:
    for k in range(cases):
        t = graph.tensors[graph.inputs[0]]
        x = (rng.integers(-128, 128, t.shape).astype(np.int8) if t.dtype == "int8"
             else rng.standard_normal(t.shape).astype(np.float32))
        want, got = run_graph(graph, [x])[0], run_graph(new, [x])[0]
        if want.dtype.kind == "f":
            assert_close(want, got, 1e-4 * max(1.0, float(np.abs(want).max())), f"{label} {k}")
        else:
            assert_exact(want, got, f"{label} case {k}")

