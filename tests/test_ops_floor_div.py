"""FLOOR_DIV: TF's converter (tf.math.floordiv: float32 with a broadcast divisor; int8, where
the converter keeps it in float; int32 through CAST) runs the same in the reference, TFLite
Micro (float32), generated C on the host and under QEMU, bit for bit; a one-op sweep over
magnitudes and signs matches TFLM (float32), LiteRT (int32, which TFLM does not run) and host
C, and the written file runs in LiteRT's default resolver."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

SHAPES = [(1, 4, 4, 8), (8,)]


def floordiv_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    positive, negative = b * b + 0.5, -0.5 - b * b      # divisors of both signs, never 0
    return [tf.math.floordiv(a * 5.0, positive), tf.math.floordiv(a * 5.0, negative),
            tf.math.floordiv(b + 3.0, a + 2.5)]


def int_floordiv_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    x = tf.cast(a * 1000.0, tf.int32)
    y = tf.cast(b * b * 10.0 + 1.0, tf.int32)          # >= 1
    z = tf.cast(-1.0 - b * b * 10.0, tf.int32)         # <= -1
    return [tf.cast(tf.math.floordiv(x, y), tf.float32),
            tf.cast(tf.math.floordiv(x, z), tf.float32)]


@pytest.fixture(scope="module", params=("float32", "int8", "int32"))
def model(request, tmp_path_factory):
    """float32 and int8 models of floordiv_model; "int32": int_floordiv_model in float32 (the
    integer FLOOR_DIV between CASTs; TFLM has no int32 kernel, so LiteRT checks it)."""
    tf = pytest.importorskip("tensorflow")
    fn, mode = ((int_floordiv_model, "float32") if request.param == "int32"
                else (floordiv_model, request.param))
    return co.build(tf.function(fn), SHAPES, mode, tmp_path_factory)


def check_litert_default(model, pool) -> None:
    """Reference == LiteRT's default resolver on the converter's and the written file."""
    from toolchain.verify.litert import run_litert_default

    for i, x in enumerate(model.cases):
        want = run_graph(model.graph, x)
        for tag, blob in (("converter", model.blob), ("written", write_tflite(model.graph))):
            got = pool.submit(run_litert_default, blob, x).result()
            for k, (a, b) in enumerate(zip(want, got)):
                co.assert_same(a, b, f"litert {tag} case {i} output {k}", 0)


def test_converter_emits_floor_div(model):
    assert "FLOOR_DIV" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model, pool):
    if any(t.dtype == "int32" for t in model.graph.tensors.values()):
        check_litert_default(model, pool)
    else:
        co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def sweep(dtype: str, n: int = 4096):
    rng = np.random.default_rng(12)
    if dtype == "float32":
        x = (rng.standard_normal(n) * 10 ** rng.uniform(-6, 12, n)).astype(np.float32)
        y = (rng.standard_normal(n) * 10 ** rng.uniform(-6, 6, n)).astype(np.float32)
        x[:8] = [7, -7, 7, -7, -0.0, 6, np.inf, 1e30]
        y[:8] = [2, 2, -2, -2, 3, 3, 2, 1e-30]
    else:
        x = rng.integers(-2 ** 31, 2 ** 31, n).astype(np.int32)
        y = rng.integers(-100, 100, n).astype(np.int32)
        y[y == 0] = 7                        # LiteRT and TFLM fault on 0
        x[:5], y[:5] = [-7, 7, -2 ** 31, 2 ** 31 - 1, -2 ** 31], [2, -2, -3, 5, -1]
    return x, y


def one_op(dtype: str, n: int):
    return oplab.one_op("FLOOR_DIV", [oplab.act("x", (n,), dtype), oplab.act("y", (n,), dtype)],
                        {}, oplab.act("out", (n,), dtype))


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_sweep_vs_tflm_litert_and_host_c(dtype, pool):
    from toolchain.verify.litert import run_litert_default
    from toolchain.verify.tflm import run_tflm

    x, y = sweep(dtype)
    g = one_op(dtype, x.size)
    want = run_graph(g, [x, y])[0]
    blob = write_tflite(g)
    runs = {"host": get_executor("host")(g, [x, y]).outputs[0]}
    if dtype == "float32":
        runs["tflm"] = run_tflm(blob, [x, y])[0]
    keep = slice(None) if dtype == "float32" else slice(5, None)    # LiteRT: INT32_MIN / -1
    runs["litert default"] = pool.submit(run_litert_default, blob, [x, y]).result()[0]
    for label, got in runs.items():     # bit patterns: NaN, signed zeros and all
        got = np.asarray(got).reshape(want.shape)
        sel = keep if label.startswith("litert") else slice(None)
        oplab.assert_exact(want.view(np.int32)[sel], got.view(np.int32)[sel], f"{dtype} {label}")


def test_zero_divisor_is_defined():
    x = np.array([7, -7, 0], np.float32)
    y = np.zeros(3, np.float32)
    got = run_graph(one_op("float32", 3), [x, y])[0]
    assert np.isposinf(got[0]) and np.isneginf(got[1]) and np.isnan(got[2])
    xi, yi = np.array([7, -7, 0], np.int32), np.zeros(3, np.int32)
    host = get_executor("host")(one_op("int32", 3), [xi, yi]).outputs[0]
    oplab.assert_exact(np.zeros(3, np.int32), run_graph(one_op("int32", 3), [xi, yi])[0], "ref")
    oplab.assert_exact(np.zeros(3, np.int32), np.asarray(host).ravel(), "host")


def test_constant_zero_divisor_is_refused():
    y = oplab.const("y", np.array([2, 0, 3], np.int32))
    with pytest.raises(GraphError, match="constant divisor 'y' is 0 at flat index 1"):
        oplab.one_op("FLOOR_DIV", [oplab.act("x", (3,), "int32"), y], {},
                     oplab.act("out", (3,), "int32"))
