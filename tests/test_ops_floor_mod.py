"""FLOOR_MOD: TF's converter (tf.math.floormod, float32 with a broadcast divisor; int8, where
the converter keeps it in float) runs the same in the reference, TFLite Micro, generated C on
the host and under QEMU, bit for bit (fmod is exact); a one-op sweep over magnitudes and signs
matches TFLM (float32) and LiteRT (int32, which TFLM does not run) and host C."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

SHAPES = [(1, 4, 4, 8), (8,)]


def floormod_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    positive, negative = b * b + 0.5, -0.5 - b * b      # divisors of both signs, never 0
    return [tf.math.floormod(a * 5.0, positive), tf.math.floormod(a * 5.0, negative),
            tf.math.floormod(b + 3.0, a + 2.5)]


@pytest.fixture(scope="module", params=("float32", "int8"))
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(floormod_model), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_floor_mod(model):
    assert "FLOOR_MOD" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def sweep(dtype: str, n: int = 4096):
    rng = np.random.default_rng(11)
    if dtype == "float32":
        x = (rng.standard_normal(n) * 10 ** rng.uniform(-6, 12, n)).astype(np.float32)
        y = (rng.standard_normal(n) * 10 ** rng.uniform(-6, 6, n)).astype(np.float32)
        x[:8] = [7, -7, 7, -7, -0.0, 6, np.inf, 1e30]
        y[:8] = [2, 2, -2, -2, 3, 3, 2, 1e-30]
    else:
        x = rng.integers(-2 ** 31, 2 ** 31, n).astype(np.int32)
        y = rng.integers(-100, 100, n).astype(np.int32)
        y[(y == 0) | (y == -1)] = 7          # LiteRT and TFLM fault on these
        x[:4], y[:4] = [-7, 7, -2 ** 31, 2 ** 31 - 1], [2, -2, -3, 5]
    return x, y


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_sweep_vs_tflm_litert_and_host_c(dtype):
    from toolchain.verify.litert import run_litert
    from toolchain.verify.tflm import run_tflm

    x, y = sweep(dtype)
    g = oplab.one_op("FLOOR_MOD", [oplab.act("x", x.shape, dtype), oplab.act("y", y.shape, dtype)],
                     {}, oplab.act("out", x.shape, dtype))
    want = run_graph(g, [x, y])[0]
    blob = write_tflite(g)
    runs = {"host": get_executor("host")(g, [x, y]).outputs[0]}
    if dtype == "float32":
        runs["tflm"] = run_tflm(blob, [x, y])[0]
    runs["litert"] = run_litert(blob, [x, y])[0]
    for label, got in runs.items():     # bit patterns: NaN, signed zeros and all
        got = np.asarray(got).reshape(want.shape)
        oplab.assert_exact(want.view(np.int32), got.view(np.int32), f"{dtype} {label}")
