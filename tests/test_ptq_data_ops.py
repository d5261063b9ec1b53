"""fitml's post-training quantization of float converter models holding EXPAND_DIMS, SLICE and
REDUCE_MAX: each output shares its input's (scale, zp) (the int8 kernels move or compare raw
codes; TFLM requires it of REDUCE_MAX), and the int8 graph equals TFLite Micro bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
from ptq_cases import assert_tflm_equal
from toolchain.backends.tflite import write_tflite
from toolchain.quant.ptq import quantize

SHAPES = [(1, 6, 5, 4)]
KINDS = ("EXPAND_DIMS", "SLICE", "REDUCE_MAX")


def data_ops(a):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    x = tf.nn.relu(a * 1.5 - 0.25)
    return [tf.expand_dims(x, 1) + 0.5, tf.slice(x, [0, 1, 0, 1], [-1, 4, 3, -1]) * 2.0,
            tf.reduce_max(x, axis=[1, 2]) - 1.0]


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    model = co.build(tf.function(data_ops), SHAPES, "float32", tmp_path_factory,
                     dynamic_batch=True)
    rng = np.random.default_rng(5)
    calib = [[rng.uniform(-2, 2, SHAPES[0]).astype(np.float32)] for _ in range(16)]
    q = quantize(model.graph, calib, io="float")
    return model, q


def test_outputs_share_the_input_params(quantized):
    model, q = quantized
    assert set(KINDS) <= co.kinds(model), co.kinds(model)
    seen = set()
    for op in q.ops:
        if op.kind in KINDS:
            x, out = q.tensors[op.inputs[0]], q.tensors[op.outputs[0]]
            assert x.dtype == out.dtype == "int8", op
            assert x.quant.same_as(out.quant), (op.kind, x.quant, out.quant)
            seen.add(op.kind)
    assert seen == set(KINDS)


def test_int8_graph_equals_tflm(quantized):
    model, q = quantized
    rng = np.random.default_rng(6)
    cases = [[rng.uniform(-2, 2, SHAPES[0]).astype(np.float32)] for _ in range(3)]
    assert_tflm_equal(q, write_tflite(q), cases, "ptq")
