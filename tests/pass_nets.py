"""Small float graphs built op by op for the cleanup-pass tests (tests/test_passes_*.py):
shapes from the registry, conv-like layers with random weights, RESHAPE / TRANSPOSE helpers, and
the check that a rewritten graph still computes the same outputs."""
from __future__ import annotations

import numpy as np

import oplab
from toolchain.ir import Graph, Op, Tensor
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph


class Net:
    """A float graph built op by op; output shapes come from the registry."""

    def __init__(self, shape=(1, 6, 6, 4), dtype="float32", quant=None):
        self.tensors = {"x": Tensor("x", shape, dtype, quant=quant)}
        self.ops: list[Op] = []

    def const(self, data, name="c") -> str:
        data = np.asarray(data)
        name = self._name(name)
        self.tensors[name] = Tensor(name, data.shape, str(data.dtype), data)
        return name

    def op(self, kind, ins, name=None, quant=None, **attrs) -> str:
        name = self._name(name or kind.lower())
        op = Op(kind, ins, [name], attrs)
        ((shape, dtype),) = registry.get(kind).infer(op, [self.tensors[i] if i else None
                                                          for i in ins])
        self.tensors[name] = Tensor(name, shape, dtype, quant=quant)
        self.ops.append(op)
        return name

    def graph(self, *outputs) -> Graph:
        return Graph.build(self.tensors.values(), self.ops, ["x"], outputs).validate()

    def _name(self, base):
        name, i = base, 1
        while name in self.tensors:
            name, i = f"{base}{i}", i + 1
        return name


def conv(net, rng, x, cout, kind="CONV_2D", bias=True, **attrs):
    cin = net.tensors[x].shape[-1]
    attrs = dict(dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE"),
                 **attrs)
    if kind == "DEPTHWISE_CONV_2D":
        w = rng.standard_normal((1, 3, 3, cout)).astype(np.float32)
        attrs["depth_multiplier"] = cout // cin
    elif kind == "FULLY_CONNECTED":
        w = rng.standard_normal((cout, cin)).astype(np.float32)
        attrs = dict(activation=attrs["activation"], keep_num_dims=True)
    else:
        w = rng.standard_normal((cout, 3, 3, cin)).astype(np.float32)
    ins = [x, net.const(w, "w")]
    if bias:
        ins.append(net.const(rng.standard_normal(cout).astype(np.float32), "b"))
    return net.op(kind, ins, **attrs)


def same_outputs(before: Graph, after: Graph, rng, exact=False):
    after.validate()
    assert after.inputs == before.inputs and after.outputs == before.outputs
    x = [rng.standard_normal(before.tensors[n].shape).astype(np.float32) for n in before.inputs]
    for i, (want, got) in enumerate(zip(run_graph(before, x), run_graph(after, x))):
        if exact:
            oplab.assert_exact(want, got, f"output {i}")
        else:
            oplab.assert_close(want, got, 1e-4 * max(1.0, float(np.abs(want).max())),
                               f"output {i}")


def kinds(graph):
    return [op.kind for op in graph.ops]


def reshape(net, x, shape):
    return net.op("RESHAPE", [x, net.const(np.int32(shape), "shape")], new_shape=tuple(shape),
                  quant=net.tensors[x].quant)


def transpose(net, x, perm):
    return net.op("TRANSPOSE", [x, net.const(np.int32(perm), "perm")],
                  quant=net.tensors[x].quant)
