"""A real 16x8 model from TensorFlow's converter runs bit-exact in the reference, TFLite Micro,
generated C on the host and under QEMU (Cortex-M4 and M55, whose DSP / MVE builds link the
portable s16 kernels, and Cortex-M0).

A small Keras CNN (conv, depthwise, residual ADD, SUB, max and average pool, global average
pool, dense) is built with seeded weights and converted once per module with
EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 on a seeded representative set.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from int16_cases import input_cases
from tf_convert import convert_keras
from oplab import assert_exact
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HW = (12, 12, 3)


def keras_16x8(path) -> bytes:
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(1)
    L = tf.keras.layers
    inp = tf.keras.Input(HW, batch_size=1)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    y = L.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    z = L.MaxPooling2D(2)(L.Add()([x, y]))
    z = L.Subtract()([z, L.Conv2D(8, 1)(z)])
    z = L.Conv2D(6, 3, strides=2, padding="valid", bias_initializer="glorot_uniform")(z)
    pooled = L.Flatten()(L.AveragePooling2D(2, padding="same")(z))
    mean = L.GlobalAveragePooling2D()(z)
    out = L.Dense(5, bias_initializer="glorot_uniform")(L.Concatenate()([pooled, mean]))
    model = tf.keras.Model(inp, out)
    blob = convert_keras(model, "int16")
    path.write_bytes(blob)
    return blob


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """(graph, .tflite bytes, inputs): realistic inputs quantized from floats, plus full-range
    random int16 ones."""
    path = tmp_path_factory.mktemp("int16") / "cnn_16x8.tflite"
    blob = keras_16x8(path)
    graph = load_tflite(str(path))
    t = graph.tensors[graph.inputs[0]]
    return graph, blob, input_cases(t, 2, 3)


def test_converter_emits_16x8_ops(model):
    graph = model[0]
    kinds = {op.kind for op in graph.ops}
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "SUB", "MAX_POOL_2D", "AVERAGE_POOL_2D",
            "MEAN", "FULLY_CONNECTED"} <= kinds, kinds
    for op in graph.ops:
        assert graph.tensors[op.outputs[0]].dtype == "int16", op.kind
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(op.inputs) > 2:
            assert graph.tensors[op.inputs[2]].dtype == "int64"


def test_reference_equals_tflm(model):
    from toolchain.verify.tflm import run_tflm
    graph, blob, cases = model
    written = write_tflite(graph)          # fitml's own writer must round-trip 16x8 too
    for i, x in enumerate(cases):
        want = run_graph(graph, x)[0]
        for tag, b in (("converter", blob), ("written", written)):
            got = np.asarray(run_tflm(b, x)[0]).reshape(want.shape)
            assert_exact(want, got, f"{tag} case {i}")


@pytest.mark.parametrize("executor,target", [("host", None), ("qemu", "cortex-m4"),
                                             ("qemu", "cortex-m0"), ("qemu", "cortex-m55")])
def test_generated_c_bit_exact(model, executor, target):
    graph, _, cases = model
    run = get_executor(executor)
    kw = {} if target is None else dict(target=target)
    for i, x in enumerate(cases):
        assert_exact(run_graph(graph, x)[0], run(graph, x, **kw).outputs[0],
                     f"{executor} {target} case {i}")
