"""EXPAND_DIMS: converter models (tf.expand_dims over a None batch, which the converter keeps as
EXPAND_DIMS; a Keras Conv1D; float32 and int8; positive and negative axes) run the same in the
reference, TFLite Micro, generated C on the host and under QEMU; the output aliases the input
(no kernel); the written file runs in LiteRT's default resolver; bad axes fail cleanly."""
from __future__ import annotations


import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError, Node
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph

SHAPES = [(1, 6, 4), (1, 5)]


def expansions(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.nn.relu(tf.expand_dims(a, 1)), tf.expand_dims(a, -1) + 0.5,
            tf.expand_dims(b, -3) * 2.0, tf.expand_dims(b, 2) - 1.0]


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(expansions), SHAPES, request.param, tmp_path_factory,
                    dynamic_batch=True)


def test_converter_emits_expand_dims(model):
    assert "EXPAND_DIMS" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def test_output_aliases_input(model):
    for op in model.graph.ops:
        if op.kind == "EXPAND_DIMS":
            node = Node.of(model.graph, op)
            call = registry.get("EXPAND_DIMS").lower_c(node)
            assert call.alias_of == node.ins[0].name


@pytest.fixture(scope="module", params=["float32", "int8"])
def conv1d(request, tmp_path_factory):
    """A Keras Conv1D, converted as Keras models are: EXPAND_DIMS, CONV_2D, RESHAPE."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(3)
    net = tf.keras.Sequential([tf.keras.Input((16, 4)), tf.keras.layers.Conv1D(8, 3),
                               tf.keras.layers.ReLU()])
    return co.build(tf.function(lambda x: net(x)), [(1, 16, 4)], request.param,
                    tmp_path_factory, dynamic_batch=True)


def test_keras_conv1d_equals_tflm_and_c(conv1d):
    assert "EXPAND_DIMS" in co.kinds(conv1d), co.kinds(conv1d)
    co.check_tflm(conv1d, atol=1e-5)      # integers exactly, float32 within 1e-5
    co.check_c(conv1d, "host", None, atol=1e-5)


def test_written_file_runs_in_litert_default_resolver(model, pool):
    from toolchain.verify.litert import run_litert_default

    x = model.cases[0]
    got = pool.submit(run_litert_default, write_tflite(model.graph), x).result()
    for k, want in enumerate(run_graph(model.graph, x)):
        co.assert_same(want, np.asarray(got[k]), f"litert default output {k}", 1e-6)


@pytest.mark.parametrize("axis, shape", [(0, (1, 2, 3)), (2, (2, 3, 1)), (-1, (2, 3, 1)),
                                          (-3, (1, 2, 3)), (1, (2, 1, 3))])
def test_axis_rule(axis, shape):
    x = oplab.act("x", (2, 3), "int8", 0.1, 0)
    g = oplab.one_op("EXPAND_DIMS", [x, oplab.const("axis", np.array([axis], np.int32))], {},
                     oplab.act("out", shape, "int8", 0.1, 0))
    assert g.tensors["out"].shape == shape


@pytest.mark.parametrize("axis", [3, -4])
def test_axis_out_of_range_is_refused(axis):
    x = oplab.act("x", (2, 3), "float32")
    with pytest.raises(GraphError, match=f"EXPAND_DIMS: axis {axis} out of range"):
        oplab.one_op("EXPAND_DIMS", [x, oplab.const("axis", np.array([axis], np.int32))], {},
                     oplab.act("out", (2, 3, 1), "float32"))
