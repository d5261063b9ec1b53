"""PRELU: converter models (Keras PReLU with alpha per element, per channel (shared_axes) and on
a rank-2 input; float32 and int8) run the same in the reference, TFLite Micro, generated C on the
host and under QEMU; int8 one-op graphs over seeded scales and zero points (every input code
against every alpha code) equal TFLM; the written file runs in LiteRT's default resolver."""
from __future__ import annotations


import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(1, 4, 5, 3), (6, 8)]
GRID = np.arange(-128, 128).astype(np.int8)


def prelu_fn():
    import tensorflow as tf  # lazy: only the converter fixtures need it
    tf.keras.utils.set_random_seed(1)
    init = tf.keras.initializers.RandomUniform(-0.5, 1.5)
    layers = [tf.keras.layers.PReLU(alpha_initializer=init),
              tf.keras.layers.PReLU(alpha_initializer=init, shared_axes=[1, 2]),
              tf.keras.layers.PReLU(alpha_initializer=init)]
    for layer, shape in zip(layers, [SHAPES[0], SHAPES[0], SHAPES[1]]):
        layer.build(shape)

    def fn(a, b):
        return [layers[0](a), layers[1](a), layers[2](b)]
    return tf.function(fn)


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    pytest.importorskip("tensorflow")
    return co.build(prelu_fn(), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_prelu(model):
    assert "PRELU" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


@pytest.mark.parametrize("seed", range(8))
def test_int8_every_input_and_alpha_code_matches_tflm(seed):
    rng = np.random.default_rng(90 + seed)
    s_in, s_a = float(10 ** rng.uniform(-3, 0)), float(10 ** rng.uniform(-3, -1))
    s_out = s_in * float(10 ** rng.uniform(-1, 1))
    zp_in, zp_a, zp_out = (int(z) for z in rng.integers(-128, 128, 3))
    x = oplab.act("x", (256, 1), "int8", s_in, zp_in)
    alpha = oplab.const("alpha", GRID.reshape(1, 256), np.float32(s_a), np.int64(zp_a))
    g = oplab.one_op("PRELU", [x, alpha], {},
                     oplab.act("out", (256, 256), "int8", s_out, zp_out))
    ref, tflm = oplab.run_reference_and_tflm(g, [GRID.reshape(256, 1)])
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")
    co.check_c(co.Model(g, b"", [[GRID.reshape(256, 1)]]), "host", None, atol=0)


def test_rank_above_four_is_refused():
    x = oplab.act("x", (1, 2, 2, 2, 3), "float32")
    alpha = oplab.const("alpha", np.ones(3, np.float32))
    with pytest.raises(GraphError, match="PRELU: .*rank 5 exceeds the supported 4"):
        oplab.one_op("PRELU", [x, alpha], {}, oplab.act("out", (1, 2, 2, 2, 3), "float32"))


def test_written_file_runs_in_litert_default_resolver(model, pool):
    from toolchain.verify.litert import run_litert_default

    x = model.cases[0]
    got = pool.submit(run_litert_default, write_tflite(model.graph), x).result()
    for k, want in enumerate(run_graph(model.graph, x)):
        got_k = np.asarray(got[k]).reshape(want.shape)
        if want.dtype == np.float32:
            oplab.assert_close(want, got_k, 1e-6, f"litert default output {k}")
        else:    # LiteRT's optimized int8 kernel may round a step differently
            assert np.abs(want.astype(np.int64) - got_k).max() <= 1, k
