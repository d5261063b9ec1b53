"""Structured pruning and the graph-level fine-tuner's interpreter. Pruning runs on a torch CNN
built here with every structure the channel analysis follows (a depthwise conv with depth
multiplier 2, a residual ADD, a channel CONCATENATION, a flattening RESHAPE into an FC): the
pruned graph validates and computes what the original computes with the removed channels forced
to zero; the activation criterion removes dead channels first. The torch interpreter equals the
reference on that CNN, the KWS float model and the ONNX MNIST example."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO, shared_model
from oplab import assert_close
from toolchain import api
from toolchain.fit import finetune as ft
from toolchain.fit.channels import analyze
from toolchain.fit.prune import prunable_layers, prune_channels, select
from toolchain.passes import CLEANUP, run_pipeline
from toolchain.ops.interpreter import run_graph


# ------------------------------------------------------------------------------ pruning

def branchy_net(dead: int = 0):
    """conv -> depthwise (dm 2) -> conv -> residual block -> two convs concatenated -> FC.
    `dead`: that many channels of the last ReLU conv (c5) get a large negative bias (always 0
    after ReLU) and the largest weights."""
    import torch
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, padding=1)
            self.dw = nn.Conv2d(8, 16, 3, padding=1, groups=8)
            self.c2, self.c3 = nn.Conv2d(16, 16, 1), nn.Conv2d(16, 16, 3, padding=1)
            self.c4, self.c5 = nn.Conv2d(16, 6, 1), nn.Conv2d(16, 6, 1)
            self.fc = nn.Linear(12 * 8 * 8, 10)

        def forward(self, x):
            x = torch.relu(self.dw(torch.relu(self.c1(x))))
            y = torch.relu(self.c2(x))
            z = torch.relu(self.c3(y) + y)
            z = torch.cat([self.c4(z), torch.relu(self.c5(z))], 1)
            return self.fc(torch.flatten(z, 1))

    torch.manual_seed(11)
    net = Net().eval()
    with torch.no_grad():
        net.c5.weight[:dead] *= 4.0
        net.c5.bias[:dead] = -100.0
    return run_pipeline(api.load(net, (torch.zeros(1, 3, 8, 8),)), CLEANUP)


def samples(rng, count, shape=(1, 8, 8, 3)):
    return [[rng.uniform(-1, 1, shape).astype(np.float32)] for _ in range(count)]


def masked(graph, cg, removed):
    """The original graph with the removed channels' outputs forced to zero: source rows and
    biases zeroed, and the biases of depthwise channels they flow through."""
    tensors = dict(graph.tensors)
    for op in graph.ops:
        if op.kind not in ("CONV_2D", "FULLY_CONNECTED", "DEPTHWISE_CONV_2D"):
            continue
        gone = np.isin(cg.root(op.outputs[0]), list(removed))
        if not gone.any():
            continue
        axis = 3 if op.kind == "DEPTHWISE_CONV_2D" else 0
        for k, ax in ((1, axis), (2, 0)):
            t = graph.tensors[op.inputs[k]]
            data = np.array(t.data)
            index = [slice(None)] * data.ndim
            index[ax] = gone
            data[tuple(index)] = 0
            tensors[t.name] = t.replace(data=data)
    return graph.replace(tensors=tensors)


def test_channel_groups_follow_depthwise_residual_concat_and_flatten():
    graph = branchy_net()
    layers = prunable_layers(graph)
    # every CONV_2D output can shrink; the FC writes the graph output, so it cannot
    assert sorted(layers.values()) == [6, 6, 8, 16, 16]
    fc = next(op for op in graph.ops if op.kind == "FULLY_CONNECTED")
    assert fc.outputs[0] not in layers
    cg = analyze(graph)
    res = next(op for op in graph.ops if op.kind == "ADD")
    a, b = (cg.root(n) for n in res.inputs)
    np.testing.assert_array_equal(a, b)          # residual: coupled channel by channel
    dw = next(op for op in graph.ops if op.kind == "DEPTHWISE_CONV_2D")
    np.testing.assert_array_equal(cg.root(dw.outputs[0]), np.repeat(cg.root(dw.inputs[0]), 2))


@pytest.mark.parametrize("criterion", ["l1", "l2", "activation"])
def test_pruned_graph_equals_the_original_with_channels_zeroed(criterion):
    graph = branchy_net()
    rng = np.random.default_rng(2)
    calib = samples(rng, 8)
    ratios = {n: 0.5 for n in prunable_layers(graph)}
    cg, removed = select(graph, ratios, criterion, calib)
    pruned, changes = prune_channels(graph, ratios, criterion, calib)
    pruned.validate()
    assert {c.layer: (c.before, c.after) for c in changes} == {
        n: (c, c // 2) for n, c in prunable_layers(graph).items()}
    reference = masked(graph, cg, removed)
    for x in samples(rng, 4):
        assert_close(run_graph(reference, x)[0], run_graph(pruned, x)[0], atol=1e-4)
    macs = lambda g: api.inspect(g)["macs"]     # noqa: E731
    assert macs(pruned) < 0.5 * macs(graph)
    res = next(op for op in pruned.ops if op.kind == "ADD")
    assert pruned.tensors[res.inputs[0]].shape == pruned.tensors[res.inputs[1]].shape


def test_activation_criterion_removes_dead_channels_first():
    graph = branchy_net(dead=3)
    rng = np.random.default_rng(4)
    c5 = next(op for op in graph.ops if op.kind == "CONV_2D" and op.attr("activation") == "RELU"
              and graph.tensors[op.outputs[0]].shape[-1] == 6).outputs[0]
    keep_l2 = select(graph, {c5: 0.5}, "l2")
    keep_act = select(graph, {c5: 0.5}, "activation", samples(rng, 8))
    dead = set(keep_act[0].root(c5)[:3].tolist())
    assert keep_act[1] == dead                   # exactly the never-active channels
    assert not keep_l2[1] & dead                 # the weight norm keeps them (largest)
    pruned, _ = prune_channels(graph, {c5: 0.5}, "activation", samples(rng, 8))
    for x in samples(rng, 3):                    # removing dead channels changes nothing
        assert_close(run_graph(graph, x)[0], run_graph(pruned, x)[0], atol=1e-4)


def test_pruning_keeps_a_channel_and_refuses_non_layers():
    graph = branchy_net()
    first = graph.ops[0].outputs[0]
    pruned, changes = prune_channels(graph, {first: 0.99}, "l2")
    assert changes[0].after == 1
    from toolchain.errors import UsageError
    with pytest.raises(UsageError, match="not the output"):
        prune_channels(graph, {graph.outputs[0] + "x": 0.5})
    with pytest.raises(UsageError, match="ratio"):
        prune_channels(graph, {first: 1.0})


def test_softmax_over_channels_blocks_pruning():
    import torch
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Softmax(dim=1), nn.Conv2d(4, 5, 1),
                        nn.ReLU(), nn.Conv2d(5, 2, 1)).eval()
    graph = run_pipeline(api.load(net, (torch.zeros(1, 3, 4, 4),)), CLEANUP)
    assert list(prunable_layers(graph).values()) == [5]


# ------------------------------------------------------------------------------ fine-tuning

def test_torch_interpreter_matches_the_reference():
    graph = branchy_net()
    x = np.random.default_rng(8).uniform(-1, 1, (3, 8, 8, 3)).astype(np.float32)
    want = np.concatenate([run_graph(graph, [x[i:i + 1]])[0] for i in range(3)])
    assert_close(want, ft.run(graph, x), atol=1e-4)
    from toolchain.fit.prune import float_weights
    kws = float_weights(run_pipeline(api.load(shared_model(
        "mlperf_tiny/kws/kws_ref_model_float32.tflite")), CLEANUP))   # SAME 10x4 stride 2
    x = np.random.default_rng(9).normal(0, 1, (2, 49, 10, 1)).astype(np.float32)
    want = np.concatenate([run_graph(kws, [x[i:i + 1]])[0] for i in range(2)])
    assert_close(want, ft.run(kws, x), atol=1e-5)
    onnx = run_pipeline(api.load(REPO / "examples" / "mnist_cnn.onnx"), CLEANUP)
    assert "EXPLICIT" in {op.attr("padding") for op in onnx.ops}   # its PAD, folded
    x = np.load(REPO / "examples" / "mnist_calib.npy")[:3]
    want = np.concatenate([run_graph(onnx, [x[i:i + 1]])[0] for i in range(3)])
    assert_close(want, ft.run(onnx, x), atol=1e-4)
