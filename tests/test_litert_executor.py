"""The `litert` executor runs LiteRT as a phone does (default resolver, optimized kernels,
XNNPACK): it predicts the phone's numbers, which may differ from the bit-exact reference by a
few LSB; `litert-reference` runs LiteRT's reference kernels, bit-exact."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO
from oplab import assert_exact
from toolchain import api
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

EXAMPLE = REPO / "examples" / "mnist_cnn_int8.tflite"


@pytest.fixture(scope="module")
def runs():
    graph = api.load(EXAMPLE)
    rng = np.random.default_rng(0)
    xs = [rng.integers(-128, 128, (1, 28, 28, 1)).astype(np.int8) for _ in range(20)]
    out = {"reference": [run_graph(graph, [x])[0] for x in xs]}
    for name in ("litert", "litert-reference"):
        run = get_executor(name)
        out[name] = [run(graph, [x], isolate=False).outputs[0] for x in xs]
    return out


def test_litert_reference_is_bit_exact(runs):
    for i, (want, got) in enumerate(zip(runs["reference"], runs["litert-reference"])):
        assert_exact(want, got, f"input {i}")


def test_litert_default_kernels_are_close_but_not_the_reference(runs):
    diffs = [int(np.abs(w.astype(int) - g.astype(int)).max())
             for w, g in zip(runs["reference"], runs["litert"])]
    assert max(diffs) <= 4, diffs             # a few LSB of rounding, never a wrong answer
    assert any(diffs), "the default kernels matched the reference on all 20 inputs"
