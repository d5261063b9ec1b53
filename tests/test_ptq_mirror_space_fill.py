"""fitml's post-training quantization of float converter models holding MIRROR_PAD,
SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, BROADCAST_TO and FILL: each output shares its raw-copied
operand's (scale, zp) (the int8 kernels copy codes), and the int8 graph equals TFLite Micro bit
for bit."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
from ptq_cases import assert_tflm_equal
from toolchain.backends.tflite import write_tflite
from toolchain.quant.ptq import quantize

SHAPES = [(1, 6, 5, 4)]
COPIED = {"MIRROR_PAD": 0, "SPACE_TO_BATCH_ND": 0, "BATCH_TO_SPACE_ND": 0, "BROADCAST_TO": 0,
          "FILL": 1}


def copies(a):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    x = tf.nn.relu(a * 1.5 - 0.25)
    s2b = tf.space_to_batch_nd(x, [2, 2], [[0, 0], [1, 0]]) * 0.5
    return [tf.pad(x, [[0, 0], [2, 1], [1, 3], [0, 0]], mode="REFLECT") + 0.5,
            tf.batch_to_space(s2b, [2, 2], [[0, 0], [1, 0]]) - 1.0,
            tf.broadcast_to(tf.reduce_mean(x, axis=[1], keepdims=True), [2, 6, 5, 4]) * 2.0,
            tf.fill([3, 4], tf.reduce_max(x)) + 1.0]


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    model = co.build(tf.function(copies), SHAPES, "float32", tmp_path_factory)
    rng = np.random.default_rng(5)
    calib = [[rng.uniform(-2, 2, SHAPES[0]).astype(np.float32)] for _ in range(16)]
    return model, quantize(model.graph, calib, io="float")


def test_outputs_share_the_copied_operand_params(quantized):
    model, q = quantized
    assert set(COPIED) <= co.kinds(model), co.kinds(model)
    seen = set()
    for op in q.ops:
        if op.kind in COPIED:
            x, out = q.tensors[op.inputs[COPIED[op.kind]]], q.tensors[op.outputs[0]]
            assert x.dtype == out.dtype == "int8", op
            assert x.quant.same_as(out.quant), (op.kind, x.quant, out.quant)
            seen.add(op.kind)
    assert seen == set(COPIED)


def test_int8_graph_equals_tflm(quantized):
    model, q = quantized
    rng = np.random.default_rng(6)
    cases = [[rng.uniform(-2, 2, SHAPES[0]).astype(np.float32)] for _ in range(3)]
    assert_tflm_equal(q, write_tflite(q), cases, "ptq")
