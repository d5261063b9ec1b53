"""Cleanup passes fold_constants and simplify: each rule fires where it should and nowhere else
(identity ops, graph-output renames, transpose chains, elementwise ops moved above reshapes, an
NCHW flatten folded into FC weight columns), keeps the graph valid and its outputs exact."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.ir import QuantParams
from toolchain.passes import CLEANUP, fold_constants, run_pipeline, simplify
from toolchain.ops.interpreter import run_graph
from pass_nets import Net, conv, kinds, reshape, same_outputs, transpose


# --- fold_constants ----------------------------------------------------------------------------
def test_fold_constants_runs_ops_on_constants(rng):
    net = Net()
    c = net.const(rng.standard_normal((1, 4, 6, 6)).astype(np.float32))
    t = net.op("TRANSPOSE", [c, net.const(np.int32([0, 2, 3, 1]), "perm")])
    r = net.op("RELU", [t])
    y = net.op("ADD", [net.op("RELU", ["x"]), r], activation="NONE")
    g = net.graph(y)
    out = fold_constants(g)
    assert kinds(out) == ["RELU", "ADD"]
    oplab.assert_exact(np.maximum(np.transpose(net.tensors[c].data, (0, 2, 3, 1)), 0),
                       out.tensors[r].data)
    same_outputs(g, out, rng, exact=True)


def test_fold_constants_keeps_graph_outputs_computed(rng):
    net = Net()
    c = net.op("RELU", [net.const(rng.standard_normal((1, 4)).astype(np.float32))])
    g = net.graph(net.op("RELU", ["x"]), c)
    assert kinds(fold_constants(g)) == ["RELU", "RELU"]


# --- simplify ----------------------------------------------------------------------------------


def test_identity_ops_are_removed(rng):
    net = Net()
    a = net.op("RELU", ["x"])
    b = reshape(net, a, (1, 6, 6, 4))
    c = transpose(net, b, (0, 1, 2, 3))
    d = net.op("PAD", [c, net.const(np.zeros((4, 2), np.int32), "pads")])
    e = net.op("ADD", [d, net.const(np.zeros(4, np.float32))], activation="NONE")
    f = net.op("MUL", [e, net.const(np.ones((1, 1, 1, 1), np.float32))], activation="NONE")
    g = net.op("CONCATENATION", [f], axis=3, activation="NONE")
    h = net.op("ADD", [g, net.const(np.zeros(4, np.float32))], activation="RELU6")
    graph = net.graph(h)
    out = simplify(graph)
    assert kinds(out) == ["RELU", "ADD"]   # the ADD with a fused RELU6 is not a copy
    same_outputs(graph, out, rng, exact=True)


def test_removed_op_before_a_graph_output_renames_the_producer(rng):
    net = Net()
    y = reshape(net, net.op("RELU", ["x"]), (1, 6, 6, 4))
    graph = net.graph(y)
    out = simplify(graph)
    assert kinds(out) == ["RELU"] and out.ops[0].outputs == (y,)
    same_outputs(graph, out, rng, exact=True)
    passthrough = Net()
    graph = passthrough.graph(reshape(passthrough, "x", (1, 6, 6, 4)))
    assert kinds(simplify(graph)) == ["RESHAPE"]   # a graph input cannot be renamed


def test_transpose_chains_collapse_and_size1_moves_become_reshapes(rng):
    net = Net((1, 1, 1, 8))
    a = transpose(net, net.op("RELU", ["x"]), (0, 3, 1, 2))   # NHWC -> NCHW of [1,1,1,C]
    b = reshape(net, a, (1, 8))
    c = reshape(net, b, (2, 4))
    graph = net.graph(c)
    out = simplify(graph)
    assert kinds(out) == ["RELU", "RESHAPE"]
    same_outputs(graph, out, rng, exact=True)

    net = Net((1, 3, 5, 4))
    x = net.op("RELU", ["x"])
    back = transpose(net, transpose(net, x, (0, 3, 1, 2)), (0, 2, 3, 1))
    twice = transpose(net, transpose(net, x, (0, 3, 1, 2)), (0, 3, 2, 1))
    graph = net.graph(net.op("RELU", [back]), twice)
    out = simplify(graph)
    assert sorted(kinds(out)) == ["RELU", "RELU", "TRANSPOSE"], kinds(out)
    same_outputs(graph, out, rng, exact=True)


def test_elementwise_ops_move_above_reshapes_to_reach_their_producer(rng):
    net = Net((1, 1, 6, 4))
    y = conv(net, rng, "x", 5)                                          # [1, 1, 6, 5]
    r = reshape(net, y, (1, 6, 5))
    m = net.op("MUL", [r, net.const(rng.uniform(1, 2, (1, 5)).astype(np.float32))],
               activation="NONE")
    out = net.op("RELU", [m])
    graph = net.graph(out)
    simple = simplify(graph)
    assert kinds(simple) == ["CONV_2D", "MUL", "RELU", "RESHAPE"], kinds(simple)
    assert kinds(run_pipeline(graph, CLEANUP)) == ["CONV_2D", "RESHAPE"]
    same_outputs(graph, simple, rng, exact=True)
    net = Net((1, 1, 6, 4))                                             # channels change
    r = reshape(net, conv(net, rng, "x", 5), (1, 5, 6))
    graph = net.graph(net.op("MUL", [r, net.const(np.float32([1, 2, 3, 4, 5, 6]))],
                             activation="NONE"))
    assert kinds(simplify(graph)) == kinds(graph)


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_nchw_flatten_folds_into_fc_weight_columns(dtype, rng):
    q = QuantParams(0.1, 2) if dtype == "int8" else None
    net = Net((2, 3, 4, 5), dtype, q)
    t = transpose(net, "x", (0, 3, 1, 2))
    flat = reshape(net, t, (2, 60))
    if dtype == "int8":
        w = net.const(rng.integers(-127, 128, (7, 60)).astype(np.int8), "w")
        net.tensors[w] = net.tensors[w].replace(quant=QuantParams(np.full(7, 0.01), 0, 0))
    else:
        w = net.const(rng.standard_normal((7, 60)).astype(np.float32), "w")
    fc = net.op("FULLY_CONNECTED", [flat, w], quant=QuantParams(0.5, -3) if q else None,
                activation="NONE", keep_num_dims=False)
    graph = net.graph(fc)
    out = simplify(graph)
    assert kinds(out) == ["RESHAPE", "FULLY_CONNECTED"]
    x = oplab.random_inputs(graph, rng)
    if dtype == "int8":   # integer sums: exact; float sums run in another order
        oplab.assert_exact(run_graph(graph, x)[0], run_graph(out, x)[0])
        oplab.check_tflm(out, rng)
    else:
        oplab.assert_close(run_graph(graph, x)[0], run_graph(out, x)[0], 1e-5)
