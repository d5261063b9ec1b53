"""Cleanup passes: each rule fires where it should and nowhere else, keeps the graph valid and
keeps its outputs (exactly for pure data movement, within float rounding for folding)."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.ir import Graph, Op, QuantParams, Tensor
from toolchain.ops import registry
from toolchain.passes import (CLEANUP, fold_batchnorm, fold_constants, format_graph,
                              fuse_activations, run_pipeline, simplify)
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
def reshape(net, x, shape):
    return net.op("RESHAPE", [x, net.const(np.int32(shape), "shape")], new_shape=tuple(shape),
                  quant=net.tensors[x].quant)


def transpose(net, x, perm):
    return net.op("TRANSPOSE", [x, net.const(np.int32(perm), "perm")],
                  quant=net.tensors[x].quant)


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


# --- fold_batchnorm ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,cout", [("CONV_2D", 5), ("DEPTHWISE_CONV_2D", 8),
                                       ("FULLY_CONNECTED", 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_batchnorm_scale_and_shift_fold_into_weights(kind, cout, bias, rng):
    net = Net()
    y = conv(net, rng, "x", cout, kind, bias)
    scale = net.const(rng.uniform(0.5, 2, (1, 1, cout)).astype(np.float32), "scale")
    shift = net.const(rng.standard_normal(cout).astype(np.float32), "shift")
    z = net.op("ADD", [net.op("MUL", [scale, y], activation="NONE"), shift], activation="RELU")
    z = net.op("SUB", [z, net.const(np.float32([0.25]))], activation="NONE")
    graph = net.graph(net.op("LOGISTIC", [z]))
    out = fold_batchnorm(graph)
    assert kinds(out) == [kind, "SUB", "LOGISTIC"], kinds(out)   # SUB after RELU stays
    assert out.ops[0].attr("activation") == "RELU" and len(out.ops[0].inputs) == 3
    same_outputs(graph, out, rng)


def test_batchnorm_not_folded_where_it_would_change_results(rng):
    net = Net()
    y = conv(net, rng, "x", 4)
    other = net.op("RELU", [y])                                        # second reader
    a = net.op("MUL", [y, net.const(np.float32([2, 3, 4, 5]))], activation="NONE")
    y2 = conv(net, rng, "x", 4, activation="RELU")                   # fused activation
    b = net.op("ADD", [y2, net.const(np.float32([1, 2, 3, 4]))], activation="NONE")
    y3 = conv(net, rng, "x", 4)
    spatial = rng.standard_normal((1, 6, 1, 1)).astype(np.float32)    # varies along H
    c = net.op("MUL", [y3, net.const(spatial)], activation="NONE")
    y4 = conv(net, rng, "x", 4)
    d = net.op("SUB", [net.const(np.float32([1, 2, 3, 4])), y4], activation="NONE")  # c - y
    graph = net.graph(other, a, b, c, d)
    out = fold_batchnorm(graph)
    assert kinds(out) == kinds(graph)
    same_outputs(graph, out, rng, exact=True)


# --- fuse_activations -----------------------------------------------------------------------------
def test_activations_fuse_into_producers(rng):
    net = Net()
    a = net.op("RELU", [conv(net, rng, "x", 4)])
    b = net.op("RELU6", [net.op("ADD", [a, "x"], activation="NONE")])
    c = net.op("RELU6", [conv(net, rng, b, 4, activation="RELU")])   # RELU then RELU6
    d = net.op("MAX_POOL_2D", [c], padding="VALID", stride=(2, 2), filter=(2, 2),
               activation="NONE")
    zero = net.const(np.zeros((), np.float32))
    e = net.op("ADD", [d, zero], activation="RELU_N1_TO_1")            # Clip(-1, 1) form
    graph = net.graph(e)
    out = fuse_activations(graph)
    assert kinds(out) == ["CONV_2D", "ADD", "CONV_2D", "MAX_POOL_2D"]
    assert [op.attr("activation") for op in out.ops] == ["RELU", "RELU6", "RELU6",
                                                           "RELU_N1_TO_1"]
    same_outputs(graph, out, rng, exact=True)


def test_activations_do_not_fuse_across_shared_or_output_tensors(rng):
    net = Net()
    y = conv(net, rng, "x", 4)
    shared = conv(net, rng, "x", 4)
    t = net.op("TANH", [y])
    graph = net.graph(net.op("RELU", [y]), net.op("RELU", [shared]), shared, t)
    assert kinds(fuse_activations(graph)) == kinds(graph)
    q = QuantParams(0.05, 3)
    qnet = Net(dtype="int8", quant=q)
    r = qnet.op("RELU", [qnet.op("ADD", ["x", "x"], quant=q, activation="NONE")], quant=q)
    qgraph = qnet.graph(r)
    assert kinds(fuse_activations(qgraph)) == ["ADD", "RELU"]   # int8: not fused


# --- the pipeline ---------------------------------------------------------------------------------
def random_net(rng) -> Graph:
    """A seeded random float graph mixing every pattern the cleanup rewrites."""
    net = Net((1, 5, 5, 3))
    x = "x"
    for _ in range(int(rng.integers(3, 7))):
        kind = str(rng.choice(["CONV_2D", "DEPTHWISE_CONV_2D"]))
        cout = net.tensors[x].shape[-1] * (2 if kind == "DEPTHWISE_CONV_2D" else 1) + (
            int(rng.integers(1, 4)) if kind == "CONV_2D" else 0)
        y = conv(net, rng, x, cout, kind, bool(rng.integers(2)))
        if rng.integers(2):
            y = net.op("MUL", [y, net.const(rng.uniform(0.5, 2, cout).astype(np.float32))],
                       activation="NONE")
            y = net.op("ADD", [y, net.const(rng.standard_normal(cout).astype(np.float32))],
                       activation="NONE")
        y = net.op(str(rng.choice(["RELU", "RELU6", "TANH"])), [y])
        if rng.integers(2):
            y = transpose(net, transpose(net, y, (0, 3, 1, 2)), (0, 2, 3, 1))
        x = y
    flat = reshape(net, transpose(net, x, (0, 3, 1, 2)), (1, -1))
    flat = reshape(net, flat, (1, net.tensors[flat].shape[1]))
    fc = conv(net, rng, flat, 4, "FULLY_CONNECTED")
    return net.graph(net.op("RELU", [fc]))


@pytest.mark.parametrize("seed", range(12))
def test_cleanup_pipeline_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    graph = random_net(rng)
    seen = []
    out = run_pipeline(graph, CLEANUP, dump_after="all", dump=lambda n, g: seen.append(n))
    assert seen == [name for name, _ in CLEANUP]
    assert not {"MUL", "ADD", "RELU", "RELU6"} & set(kinds(out)), kinds(out)
    assert kinds(out).count("TRANSPOSE") <= 1
    same_outputs(graph, out, rng)


def test_run_pipeline_dump_and_names(rng, capsys):
    net = Net()
    graph = net.graph(net.op("RELU", [conv(net, rng, "x", 4)]))
    run_pipeline(graph, CLEANUP, dump_after="fuse_activations")
    err = capsys.readouterr().err
    assert "--- after fuse_activations" in err and "activation=RELU" in err
    assert "CONV_2D" in format_graph(graph)
    with pytest.raises(ValueError, match="no pass named nope"):
        run_pipeline(graph, CLEANUP, dump_after="nope")
