"""MAXIMUM and MINIMUM: models from TF's converter (float32, int8, 16x8; equal shapes and
broadcasting both ways) run the same in the reference, TFLite Micro, generated C on the host
and under QEMU; quantized operands must share one scale and zero point."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(1, 4, 4, 8), (1, 4, 4, 8), (8,), (4, 1, 1)]


def extrema(a, b, c, d):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.maximum(a, b), tf.minimum(a, c), tf.maximum(d, b), tf.minimum(d, c)]


@pytest.fixture(scope="module", params=co.MODES)
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(extrema), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_both(model):
    assert {"MAXIMUM", "MINIMUM"} <= co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def test_float_nan_picks_second_operand():
    """TFLM's `a > b ? a : b`: a NaN first operand loses, a NaN second one wins."""
    x, y = oplab.act("x", (3,), "float32"), oplab.act("y", (3,), "float32")
    for kind in ("MAXIMUM", "MINIMUM"):
        g = oplab.one_op(kind, [x, y], {}, oplab.act("out", (3,), "float32"))
        a = np.array([np.nan, 1.0, 2.0], np.float32)
        b = np.array([5.0, np.nan, 1.0], np.float32)
        out = run_graph(g, [a, b])[0]
        assert out[0] == 5.0 and np.isnan(out[1]), (kind, out)


def test_quantized_operands_must_share_params():
    x = oplab.act("x", (4,), scale=0.1, zp=3)
    y = oplab.act("y", (4,), scale=0.2, zp=3)
    with pytest.raises(GraphError, match="MAXIMUM: int8 inputs and output must share"):
        oplab.one_op("MAXIMUM", [x, y], {}, oplab.act("out", (4,), scale=0.1, zp=3))


def test_keras_maximum_minimum_layers(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from toolchain.frontends.keras import load_keras

    L = tf.keras.layers
    a, b = tf.keras.Input((3, 4), batch_size=1), tf.keras.Input((3, 4), batch_size=1)
    c = L.Minimum()([L.Maximum()([a, b]), L.Dense(4)(a)])
    model = tf.keras.Model([a, b], c)
    path = tmp_path / "m.keras"
    model.save(path)
    g = load_keras(str(path))
    assert {"MAXIMUM", "MINIMUM"} <= {op.kind for op in g.ops}
    rng = np.random.default_rng(9)
    xs = [rng.standard_normal((1, 3, 4)).astype(np.float32) for _ in range(2)]
    want = model.predict(xs, verbose=0)
    oplab.assert_close(want, run_graph(g, xs)[0].reshape(want.shape), 1e-5, "keras")


@pytest.mark.parametrize("kind", ["MAXIMUM", "MINIMUM"])
def test_int32_matches_tflm_and_host_c(kind, rng):
    from toolchain.verify.executors import get_executor

    x, y = oplab.act("x", (2, 3, 4), "int32"), oplab.act("y", (3, 1), "int32")
    g = oplab.one_op(kind, [x, y], {}, oplab.act("out", (2, 3, 4), "int32"))
    ref = oplab.check_tflm(g, rng)
    inputs = oplab.random_inputs(g, rng)
    oplab.assert_exact(run_graph(g, inputs)[0],
                       np.asarray(get_executor("host")(g, inputs).outputs[0]).reshape(2, 3, 4),
                       "host")
    assert ref[0].dtype == np.int32
