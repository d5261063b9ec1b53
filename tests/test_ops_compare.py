"""EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL and LOGICAL_AND / OR / NOT:
bool graphs from TF's converter (float32 and int8, equal shapes and broadcasting, ending in
SELECT_V2 and CAST) run the same in the reference, TFLite Micro, generated C on the host and
under QEMU; int8 comparisons of inputs with different scales match TFLM over many codes; int32,
float32 (ties, NaN) and bool (EQUAL, NOT_EQUAL; logical ops) one-op graphs match TFLM and host
C; written files load in LiteRT's default resolver.
Comparisons and logic are exact in every dtype, so every check is exact (atol 0)."""
from __future__ import annotations


import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

COMPARISONS = ["EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL"]
LOGICAL = ["LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT"]
SHAPES = [(1, 4, 4, 8), (1, 4, 4, 8), (8,)]


def bool_graph(a, b, c):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    inside = tf.logical_and(tf.greater(a, b), tf.less_equal(a, c))
    either = tf.logical_or(tf.logical_not(inside), tf.not_equal(b, c))
    low = tf.logical_or(tf.less(c, b), tf.greater_equal(b, 0.5))
    return [tf.where(either, a, c * 0.5), tf.cast(low, tf.float32),
            tf.cast(tf.equal(tf.nn.relu(a), tf.nn.relu(c)), tf.float32)]


@pytest.fixture(scope="module", params=("float32", "int8"))
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(bool_graph), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_the_ops(model):
    want = {"GREATER", "LESS_EQUAL", "NOT_EQUAL", "LESS", "GREATER_EQUAL", "EQUAL",
            "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT"}
    assert want <= co.kinds(model), want - co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def one_op(kind: str, dtype: str, shapes, params=((0.05, 3), (0.07, -5))):
    if dtype == "int8":
        ins = [oplab.act(n, s, "int8", *p) for n, s, p in zip("xy", shapes, params)]
    else:
        ins = [oplab.act(n, s, dtype) for n, s in zip("xy", shapes)]
    out_shape = np.broadcast_shapes(*shapes)
    return oplab.one_op(kind, ins[:1 if kind == "LOGICAL_NOT" else 2], {},
                        oplab.act("out", out_shape, "bool"))


@pytest.mark.parametrize("kind", COMPARISONS)
@pytest.mark.parametrize("seed", range(4))
def test_int8_scaled_comparison_matches_tflm_and_host_c(kind, seed):
    """Inputs of different scales and zero points, every pair of some codes, broadcast."""
    rng = np.random.default_rng(seed)
    params = [(float(10 ** rng.uniform(-3, -0.01)), int(rng.integers(-128, 128)))
              for _ in range(2)]
    g = one_op(kind, "int8", [(64, 1), (1, 64)], params)
    codes = [rng.integers(-128, 128, (64, 1)).astype(np.int8),
             rng.integers(-128, 128, (1, 64)).astype(np.int8)]
    ref, tflm = oplab.run_reference_and_tflm(g, codes)
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")
    host = get_executor("host")(g, codes).outputs[0]
    oplab.assert_exact(ref[0], np.asarray(host).reshape(ref[0].shape), "host")


@pytest.mark.parametrize("kind", COMPARISONS + LOGICAL)
def test_one_op_equals_tflm_and_host_c(kind):
    rng = np.random.default_rng(3)
    dtypes = ["bool"] if kind in LOGICAL else ["int32", "float32"]
    dtypes += ["bool"] if kind in ("EQUAL", "NOT_EQUAL") else []     # TFLM's bool comparisons
    for dtype in dtypes:
        g = one_op(kind, dtype, [(2, 3, 4), (3, 1)])
        x = oplab.random_inputs(g, rng)
        if dtype == "float32":      # ties and NaN, where comparisons differ
            x = [np.round(v * 2) / 2 for v in x]
            x[0].flat[0] = np.nan
        ref, tflm = oplab.run_reference_and_tflm(g, x)
        oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), f"{dtype} tflm")
        host = get_executor("host")(g, x).outputs[0]
        oplab.assert_exact(ref[0], np.asarray(host).reshape(ref[0].shape), f"{dtype} host")


@pytest.mark.parametrize("kind,dtype", [("GREATER", "int8"), ("LESS_EQUAL", "float32"),
                                        ("NOT_EQUAL", "int32"), ("LOGICAL_OR", "bool"),
                                        ("LOGICAL_NOT", "bool")])
def test_written_file_runs_in_litert_default_resolver(kind, dtype, pool):
    from toolchain.verify.litert import run_litert_default

    g = one_op(kind, dtype, [(2, 3, 4), (3, 1)])
    x = oplab.random_inputs(g, np.random.default_rng(2))
    got = np.asarray(pool.submit(run_litert_default, write_tflite(g), x).result()[0])
    want = run_graph(g, x)[0]
    oplab.assert_exact(want, got.reshape(want.shape).astype(bool), "litert default")


def test_refusals():
    x8, y8 = oplab.act("x", (4,), "int8", 2.0, 0), oplab.act("y", (4,), "int8")
    with pytest.raises(GraphError, match="GREATER: int8 input 'x' has scale 2; TFLite Micro"):
        oplab.one_op("GREATER", [x8, y8], {}, oplab.act("out", (4,), "bool"))
    f = oplab.act("f", (4,), "float32")
    with pytest.raises(GraphError, match="LESS: input dtypes differ"):
        oplab.one_op("LESS", [f, y8], {}, oplab.act("out", (4,), "bool"))
    b = oplab.act("b", (4,), "bool")
    with pytest.raises(GraphError, match="GREATER: dtype bool not supported"):
        oplab.one_op("GREATER", [b, b], {}, oplab.act("out", (4,), "bool"))
    with pytest.raises(GraphError, match="LOGICAL_AND: dtype float32 not supported"):
        oplab.one_op("LOGICAL_AND", [f, f], {}, oplab.act("out", (4,), "bool"))
    with pytest.raises(GraphError, match="LOGICAL_NOT: dtype float32 not supported"):
        oplab.one_op("LOGICAL_NOT", [f], {}, oplab.act("out", (4,), "bool"))
