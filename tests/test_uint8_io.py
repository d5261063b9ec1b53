"""uint8 end to end (issue 15): a model TensorFlow's converter gives uint8 inputs and outputs
(`inference_input_type=tf.uint8`) compiles and verifies bit-exact in the reference, host C,
QEMU and TFLite Micro, its QUANTIZE uint8 <-> int8 ops lowering to their own C kernels; and
those requantizations match TFLM for scales and zero points the XOR fast path does not cover."""
from __future__ import annotations

import os

import numpy as np
import pytest

from tf_convert import convert_keras
import oplab
from cli_util import fitml, one_clear_line
from oplab import assert_exact
from toolchain.api import verify
from toolchain.backends.c import lower
from toolchain.frontends.tflite import load_tflite
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HW = (8, 8, 3)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """Conv + ReLU, depthwise, dense; int8 inside, uint8 at both ends."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(7)
    L = tf.keras.layers
    inp = tf.keras.Input(HW, batch_size=1)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = L.DepthwiseConv2D(3, strides=2, padding="same")(x)
    model = tf.keras.Model(inp, L.Dense(5)(L.Flatten()(x)))
    blob = convert_keras(model, "int8", io="uint8")
    path = tmp_path_factory.mktemp("uint8") / "cnn_uint8_io.tflite"
    path.write_bytes(blob)
    return path


def test_io_is_uint8_and_quantize_ops_lower_to_uint8_kernels(model_path):
    graph = load_tflite(str(model_path))
    for name in (*graph.inputs, *graph.outputs):
        assert graph.tensors[name].dtype == "uint8", name
    kernels = {call.kernel for call in lower(graph).calls}
    assert {"fitml_requantize_u8_s8", "fitml_requantize_s8_u8"} <= kernels, kernels


def test_verify_is_bit_exact_everywhere(model_path):
    sample = np.random.default_rng(3).integers(0, 256, (1, *HW)).astype(np.uint8)
    report = verify(str(model_path), "cortex-m4", inputs=[sample], random=2)
    executors = report["executors"]
    assert set(executors) == {"host", "qemu", "tflm"}, executors
    for name, result in executors.items():
        assert result.get("bit_exact") is True, (name, result)
    assert report["ok"] and report["bit_exact"] and report["cases"] == 3


def test_cli_verify_cortex_m0_and_wrong_input_dtype(model_path, tmp_path):
    rng = np.random.default_rng(4)
    np.save(tmp_path / "u8.npy", rng.integers(0, 256, (1, *HW)).astype(np.uint8))
    np.save(tmp_path / "s8.npy", rng.integers(-128, 128, (1, *HW)).astype(np.int8))
    ok = fitml("verify", model_path, "-i", tmp_path / "u8.npy", "--target", "cortex-m0")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("bit-exact") == 3, ok.stdout
    bad = fitml("verify", model_path, "-i", tmp_path / "s8.npy")
    assert bad.returncode == 2 and "expects uint8, got int8" in one_clear_line(bad)


# (input dtype, scale, zp), (output dtype, scale, zp)
REQUANTIZE = [
    (("uint8", 0.02, 128), ("int8", 0.02, 0)),       # TFLM's XOR fast path
    (("uint8", 0.02, 131), ("int8", 0.035, -9)),
    (("int8", 0.05, -3), ("uint8", 0.02, 120)),
    (("int8", 0.04, 5), ("uint8", 0.04, 133)),       # XOR fast path
]


@pytest.mark.parametrize("src,dst", REQUANTIZE, ids=[f"{a[0]}-{b[0]}-{a[2]}-{b[2]}"
                                                      for a, b in REQUANTIZE])
def test_uint8_quantize_matches_tflm_and_c(src, dst):
    rng = np.random.default_rng(src[2] + 300)
    x = oplab.act("x", (3, 41), src[0], scale=src[1], zp=src[2])
    graph = oplab.one_op("QUANTIZE", [x], dict(dtype=dst[0]),
                         oplab.act("out", x.shape, dst[0], scale=dst[1], zp=dst[2]))
    oplab.check_tflm(graph, rng)
    arrays = oplab.random_inputs(graph, rng)
    assert_exact(run_graph(graph, arrays)[0], get_executor("host")(graph, arrays).outputs[0])
