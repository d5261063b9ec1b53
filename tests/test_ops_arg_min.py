"""ARG_MIN: converter models (tf.argmin over the last, a middle and the first axis; float32 and
int8, int32 output) run the same in the reference, TFLite Micro, generated C on the host and
under QEMU; ties take the first index (one-op graphs vs TFLM); the written file runs in LiteRT's
default resolver; an int64 output is refused as TFLM does."""
from __future__ import annotations


import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(2, 5, 7), (1, 6, 4, 3)]


def argmins(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.math.argmin(a, -1, output_type=tf.int32),
            tf.math.argmin(b, 1, output_type=tf.int32),
            tf.math.argmin(b, 0, output_type=tf.int32)]


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(argmins), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_arg_min(model):
    assert "ARG_MIN" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_ties_take_the_first_index(dtype):
    x = oplab.act("x", (64, 6), dtype)
    ins = [x, oplab.const("axis", np.array([1], np.int32))]
    g = oplab.one_op("ARG_MIN", ins, {"output_type": "int32"}, oplab.act("out", (64,), "int32"))
    rng = np.random.default_rng(3)
    data = [rng.integers(-2, 2, (64, 6)).astype(dtype)]     # many ties
    ref, tflm = oplab.run_reference_and_tflm(g, data)
    oplab.assert_exact(np.argmin(data[0], axis=1).astype(np.int32), ref[0], "numpy")
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")
    co.check_c(co.Model(g, b"", [data]), "host", None, atol=0)


def test_int64_output_is_refused():
    x = oplab.act("x", (2, 3), "float32")
    with pytest.raises(GraphError, match="ARG_MIN: int64 output is not supported"):
        oplab.one_op("ARG_MIN", [x, oplab.const("axis", np.array([1], np.int32))],
                     {"output_type": "int64"}, oplab.act("out", (2,), "int64"))


def test_written_file_runs_in_litert_default_resolver(model, pool):
    from toolchain.verify.litert import run_litert_default

    x = model.cases[0]
    got = pool.submit(run_litert_default, write_tflite(model.graph), x).result()
    for k, want in enumerate(run_graph(model.graph, x)):
        co.assert_same(want, np.asarray(got[k]), f"litert default output {k}")
