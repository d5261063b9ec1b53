"""The compiler at ImageNet scale: a float MobileNetV2-1.0 224 (3.5 M parameters, 300 M MACs)
built in PyTorch goes through torch.export, int8 PTQ on 32 calibration images and the C
backend for a Cortex-M7, and the generated C (host gcc, ASan/UBSan) equals the int8 reference
bit for bit. QEMU is left to benchmarks/scale.py: 1.4 G instructions take minutes there.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch_mobilenet as tm  # noqa: E402

from toolchain import api  # noqa: E402
from toolchain.verify.ladder import random_inputs  # noqa: E402
from toolchain.ops.interpreter import run_graph  # noqa: E402


@pytest.fixture(scope="module")
def float_graph():
    model = tm.mobilenet_v2()
    return model, api.load(model, (tm.example_input(),))


def test_torch_mobilenet_is_mobilenet_v2():
    """The helper network has MobileNetV2-1.0's parameter count (torchvision's 3,504,872)."""
    model = tm.mobilenet_v2()
    assert sum(p.numel() for p in model.parameters()) == 3_504_872
    assert model(tm.example_input()).shape == (1, 1000)


def test_float_graph_matches_torch(float_graph):
    model, graph = float_graph
    kinds = [op.kind for op in graph.ops]
    assert kinds.count("CONV_2D") == 35 and kinds.count("DEPTHWISE_CONV_2D") == 17
    assert kinds.count("ADD") == 10 and kinds.count("FULLY_CONNECTED") == 1
    x = tm.example_input(seed=5)
    with torch.no_grad():
        want = model(x).numpy()
    got = run_graph(graph, [x.permute(0, 2, 3, 1).numpy()])[0]
    assert np.abs(got - want).max() <= 1e-3 * np.abs(want).max()


def test_mobilenet_v2_int8_c_bit_exact(float_graph, tmp_path):
    _, graph = float_graph
    q = api.quantize(graph, tm.calibration_nhwc(32))
    assert q.tensors[q.inputs[0]].dtype == "int8"
    weights = sum(t.nbytes for t in q.tensors.values() if t.is_const and t.dtype == "int8")
    assert 3_400_000 < weights < 3_600_000
    report = api.compile(q, "cortex-m7", tmp_path / "out")
    assert report["target"] == "cortex-m7"
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["macs"] > 290_000_000
    assert (tmp_path / "out" / "model_weights.c").stat().st_size > 10_000_000
    x = random_inputs(q, 1, seed=0)[0]
    ref = run_graph(q, x)
    host = api.run(q, x, executor="host").outputs
    assert ref[0].shape == (1, 1000) and np.array_equal(ref[0], host[0])
    assert len(np.unique(ref[0])) > 50          # a live output, not a saturated constant
