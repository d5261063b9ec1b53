"""Cleanup passes fold_batchnorm and fuse_activations, and the CLEANUP pipeline: each rule fires
where it should and nowhere else (not across shared tensors, graph outputs or int8), keeps the
graph valid and its outputs (exactly for pure data movement, within float rounding for folding),
also on seeded random graphs; the pipeline's dumps and pass names."""
from __future__ import annotations

import numpy as np
import pytest

from toolchain.ir import Graph, QuantParams
from toolchain.passes import (CLEANUP, fold_batchnorm, format_graph,
                              fuse_activations, run_pipeline)
from pass_nets import Net, conv, kinds, reshape, same_outputs, transpose


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
