"""SUM and REDUCE_MAX: converter models (tf.reduce_sum / tf.reduce_max over one, several, all and
negative axes, keep_dims; float32 and int8) run the same in the reference, TFLite Micro,
generated C on the host and under QEMU, float32 bit for bit (TFLM's summation order); int8 and
int16 SUM over seeded scales and zero points equal TFLM; the written file runs in LiteRT's default
resolver; an int8 REDUCE_MAX whose output quantization differs is refused as TFLM does."""
from __future__ import annotations


import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(1, 6, 5, 8), (7, 9)]


def reductions(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.reduce_sum(a, axis=[1, 2]), tf.reduce_sum(a, axis=-1, keepdims=True),
            tf.reduce_sum(b, axis=0) * 0.5, tf.reduce_max(a, axis=[1, 2]),
            tf.reduce_max(a, axis=-1, keepdims=True), tf.reduce_max(b, axis=[0, 1])]


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(reductions), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_sum_and_reduce_max(model):
    assert {"SUM", "REDUCE_MAX"} <= co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


@pytest.mark.parametrize("seed", range(8))
def test_int8_sum_scales_and_zero_points_match_tflm(seed):
    rng = np.random.default_rng(30 + seed)
    shape = ((2, 3, 4, 5), (16, 3), (40,), (2, 50, 3))[seed % 4]
    axes = ((1, 3), (0,), (0,), (-2,))[seed % 4]
    s_in = float(10 ** rng.uniform(-3, 0))
    s_out = s_in * float(10 ** rng.uniform(-0.5, 2.5))
    x = oplab.act("x", shape, "int8", s_in, int(rng.integers(-128, 128)))
    ins = [x, oplab.const("axes", np.array(axes, np.int32))]
    attrs = {"keep_dims": bool(seed % 2)}
    g = oplab.one_op("SUM", ins, attrs,
                     oplab.out_like("SUM", ins, attrs, scale=s_out,
                                    zp=int(rng.integers(-128, 128))))
    data = [rng.integers(-128, 128, shape).astype(np.int8)]
    ref, tflm = oplab.run_reference_and_tflm(g, data)
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")
    co.check_c(co.Model(g, b"", [data]), "host", None, atol=0)


@pytest.mark.parametrize("seed", range(4))
def test_int16_sum_matches_tflm_and_host_c(seed):
    rng = np.random.default_rng(50 + seed)
    shape = ((2, 3, 4, 5), (16, 3), (40,), (2, 50, 3))[seed]
    axes = ((1, 3), (0,), (0,), (-2,))[seed]
    s_in = float(10 ** rng.uniform(-4, -2))
    x = oplab.act("x", shape, "int16", s_in, 0)
    ins = [x, oplab.const("axes", np.array(axes, np.int32))]
    g = oplab.one_op("SUM", ins, {}, oplab.out_like("SUM", ins, {}, scale=s_in * float(
        10 ** rng.uniform(0, 2)), zp=0))
    data = [rng.integers(-32768, 32768, shape).astype(np.int16)]
    ref, tflm = oplab.run_reference_and_tflm(g, data)
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")
    co.check_c(co.Model(g, b"", [data]), "host", None, atol=0)


def test_float_sum_adds_in_tflm_order():
    """Large and tiny values: a pairwise (numpy) sum would round differently from TFLM's."""
    x = oplab.act("x", (3, 64), "float32")
    ins = [x, oplab.const("axes", np.array([1], np.int32))]
    g = oplab.one_op("SUM", ins, {}, oplab.out_like("SUM", ins, {}))
    rng = np.random.default_rng(2)
    data = [(rng.standard_normal((3, 64)) * 10.0 ** rng.integers(-4, 6, (3, 64)))
            .astype(np.float32)]
    ref, tflm = oplab.run_reference_and_tflm(g, data)
    oplab.assert_close(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), 0, "tflm")


def test_int8_reduce_max_needs_equal_quantization():
    x = oplab.act("x", (4, 5), "int8", 0.1, 3)
    ins = [x, oplab.const("axes", np.array([1], np.int32))]
    with pytest.raises(GraphError, match="REDUCE_MAX: int8 input 'x' and output 'out'"):
        oplab.one_op("REDUCE_MAX", ins, {}, oplab.act("out", (4,), "int8", 0.2, 3))


def test_written_file_runs_in_litert_default_resolver(model, pool):
    from toolchain.verify.litert import run_litert_default

    x = model.cases[0]
    got = pool.submit(run_litert_default, write_tflite(model.graph), x).result()
    for k, want in enumerate(run_graph(model.graph, x)):
        got_k = np.asarray(got[k]).reshape(want.shape)
        if want.dtype == np.float32:
            oplab.assert_close(want, got_k, 1e-4, f"litert default output {k}")
        else:    # LiteRT's optimized int8 sum may round a step differently
            assert np.abs(want.astype(np.int64) - got_k).max() <= 1, k
