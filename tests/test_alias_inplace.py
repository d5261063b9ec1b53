"""An in-place op never writes over storage another alias of its input still reads: two
RESHAPEs of one input, the first feeding an in-place RELU, the second read after it (the C
backend used to share the RELU's output with the input and corrupt the second reader)."""
from __future__ import annotations

import numpy as np

import oplab
from toolchain.backends.cshare import shared_storage
from toolchain.ir import Graph, Node, Op, Tensor
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor


def two_aliases() -> Graph:
    f = "float32"
    tensors = [Tensor("x", (2, 3), f), Tensor("r1", (3, 2), f), Tensor("r2", (6,), f),
               Tensor("o1", (3, 2), f), Tensor("o2", (6,), f),
               Tensor("s1", (2,), "int32", data=np.array([3, 2], np.int32)),
               Tensor("s2", (1,), "int32", data=np.array([6], np.int32))]
    ops = [Op("RESHAPE", ("x", "s1"), ("r1",), {"new_shape": (3, 2)}),
           Op("RESHAPE", ("x", "s2"), ("r2",), {"new_shape": (6,)}),
           Op("RELU", ("r1",), ("o1",), {}),
           Op("NEG", ("r2",), ("o2",), {})]
    return Graph.build(tensors, ops, ["x"], ["o1", "o2"]).validate()


def test_in_place_op_keeps_off_a_shared_input():
    g = two_aliases()
    calls = [registry.get(op.kind).lower_c(Node.of(g, op)) for op in g.ops]
    shares = shared_storage(g, calls)
    assert shares.get("o1") is None, shares
    x = [np.arange(-3, 3, dtype=np.float32).reshape(2, 3)]
    want = run_graph(g, x)
    got = get_executor("host")(g, x).outputs
    for k, (a, b) in enumerate(zip(want, got)):
        oplab.assert_exact(a, np.asarray(b).reshape(a.shape), f"output {k}")
