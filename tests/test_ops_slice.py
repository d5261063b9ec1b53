"""SLICE: converter models (tf.slice with sizes and -1 sizes, rank 2 to 4; float32 and int8)
run the same in the reference, TFLite Micro, generated C on the host and under QEMU; one-op
graphs (rank 1 to 5, int64 begin/size) equal TFLM; the written file runs in LiteRT's default
resolver; ranges leaving the input fail with one clean line."""
from __future__ import annotations


import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(1, 6, 5, 4), (7, 9)]


def slices(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.nn.relu(tf.slice(a, [0, 1, 2, 0], [1, 4, -1, 3])),
            tf.slice(a, [0, 0, 0, 1], [-1, -1, 2, -1]) + 0.5,
            tf.slice(b, [2, 3], [4, -1]) * 2.0]


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(slices), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_slice(model):
    assert "SLICE" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def one_slice(dtype: str, shape, begin, size, index_dtype=np.int32):
    x = oplab.act("x", shape, dtype)
    ins = [x, oplab.const("begin", np.array(begin, index_dtype)),
           oplab.const("size", np.array(size, index_dtype))]
    return oplab.one_op("SLICE", ins, {}, oplab.out_like("SLICE", ins, {}, scale=x.quant and
                                                            x.quant.s))


@pytest.mark.parametrize("dtype", ["float32", "int8"])
@pytest.mark.parametrize("shape, begin, size", [
    ((3, 4, 5, 2, 3), (1, 0, 2, 1, 0), (2, -1, 3, 1, -1)),
    ((10,), (3,), (5,)),
    ((2, 3), (1, 0), (1, 3)),
])
def test_one_op_equals_tflm_and_host_c(dtype, shape, begin, size):
    g = one_slice(dtype, shape, begin, size, np.int64 if len(shape) == 1 else np.int32)
    x = oplab.random_inputs(g, np.random.default_rng(1))
    ref, tflm = oplab.run_reference_and_tflm(g, x)
    want = x[0][tuple(slice(b, x[0].shape[i] if n == -1 else b + n)
                      for i, (b, n) in enumerate(zip(begin, size)))]
    oplab.assert_exact(want, ref[0], "numpy")
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")
    co.check_c(co.Model(g, b"", [x]), "host", None, atol=0)


def test_written_file_runs_in_litert_default_resolver(model, pool):
    from toolchain.verify.litert import run_litert_default

    x = model.cases[0]
    got = pool.submit(run_litert_default, write_tflite(model.graph), x).result()
    for k, want in enumerate(run_graph(model.graph, x)):
        co.assert_same(want, np.asarray(got[k]), f"litert default output {k}", 1e-6)


@pytest.mark.parametrize("begin, size", [((0, 3), (1, 2)), ((-1, 0), (1, 1)),
                                         ((0, 0), (1, -2)), ((0,), (1,))])
def test_range_outside_the_input_is_refused(begin, size):
    with pytest.raises(GraphError, match="SLICE: "):
        one_slice("float32", (2, 4), begin, size)
