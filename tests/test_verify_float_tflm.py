"""`fitml verify` compares float models against TFLite Micro too (issue 15), within the float
tolerance the ladder uses for host C and QEMU; a hybrid model (float activations, int8
weights), which TFLM cannot run, says why TFLM is skipped; and a float TFLM that disagrees is
reported as a mismatch (the comparison can fail)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cli_util import fitml
from conftest import shared_model
from toolchain.frontends.tflite import load_tflite
from toolchain.verify import ladder

FLOAT_MODELS = ["tflm/hello_world_float.tflite", "tflm/mnist_lstm_float.tflite",
                "onnx/mnist-8.onnx"]


@pytest.mark.parametrize("rel", FLOAT_MODELS)
def test_float_model_is_compared_with_tflm(rel):
    proc = fitml("verify", shared_model(rel), "--random", "2", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    tflm = report["executors"]["tflm"]
    assert "skipped" not in tflm and tflm["within_tolerance"] is True, tflm
    assert tflm["max_abs_diff"] < 1e-4 and report["ok"] is True


def test_hybrid_model_skips_tflm_with_the_reason():
    graph = load_tflite(shared_model("mlperf_tiny/kws/kws_ref_model_float32.tflite"))
    report = ladder.verify(graph, "cortex-m4", ladder.random_inputs(graph, 1),
                           executors=["tflm"])
    assert report["executors"]["tflm"] == {
        "skipped": "TFLite Micro has no hybrid (float activations, int8 weights) kernels"}


def test_a_float_difference_beyond_tolerance_is_a_mismatch():
    want = [np.array([0.0, 1.0, 2.0], np.float32)]
    close = [want[0] + np.float32(1e-6)]
    far = [want[0] + np.float32(1e-3)]
    assert ladder.compare(want, close)["within_tolerance"] is True
    assert ladder.compare(want, far)["within_tolerance"] is False
