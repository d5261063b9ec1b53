"""GATHER, ARG_MAX, DEPTH_TO_SPACE and SPACE_TO_DEPTH from TensorFlow's converter (tf.gather
with constant and runtime indices and batch_dims, tf.math.argmax, tf.nn.depth_to_space /
space_to_depth; float32 and int8): the reference equals TFLite Micro bit for bit, on the
converter's file and on the one fitml writes back, and the generated C equals it on the host
and under QEMU; what TFLM refuses is refused by name.
"""
from __future__ import annotations

import numpy as np
import pytest

from oplab import act, const
from tf_convert import check_model, convert, op_kinds, tf
from toolchain.errors import UsageError
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import GraphError, Op
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph
from toolchain.verify.cexec import ExecutionError
from toolchain.verify.executors import get_executor


def gather(indices, axis, batch_dims=0):
    return lambda x: tf().gather(x, np.asarray(indices, np.int32), axis=axis,
                                 batch_dims=batch_dims)


def argmax(axis):
    return lambda x: tf().math.argmax(x, axis=axis, output_type=tf().int32)


# name -> (function, input shape, op kind)
CASES = {
    "gather_axis1": (gather([2, 0, 1, 1, 3], 1), (2, 4, 3), "GATHER"),
    "gather_2d_indices_last": (gather([[0, 2], [1, 1]], -1), (3, 2, 3), "GATHER"),
    "gather_batch_dims": (gather([[1, 0, 1], [2, 2, 0]], 1, batch_dims=1), (2, 3, 4),
                          "GATHER"),
    "arg_max_last": (argmax(-1), (2, 5, 7), "ARG_MAX"),
    "arg_max_axis1": (argmax(1), (1, 6, 4, 3), "ARG_MAX"),
    "depth_to_space_2": (lambda x: tf().nn.depth_to_space(x, 2), (1, 3, 4, 8),
                         "DEPTH_TO_SPACE"),
    "depth_to_space_3": (lambda x: tf().nn.depth_to_space(x, 3), (2, 2, 2, 18),
                         "DEPTH_TO_SPACE"),
    "space_to_depth_2": (lambda x: tf().nn.space_to_depth(x, 2), (1, 4, 6, 3),
                         "SPACE_TO_DEPTH"),
}
MODES = ("float32", "int8")


@pytest.fixture(scope="module")
def models():
    return {(name, mode): convert(fn, [shape], mode, seed=k)
            for k, (name, (fn, shape, _)) in enumerate(CASES.items()) for mode in MODES}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", CASES)
def test_reference_and_host_c_equal_tflm(models, name, mode):
    model = models[name, mode]
    assert CASES[name][2] in op_kinds(model), op_kinds(model)
    for seed in range(2):
        check_model(model, np.random.default_rng(seed))


def test_arg_max_ties_take_the_first_index(models):
    """int8 inputs full of ties: TFLM and the C kernels pick the first greatest value."""
    model = models["arg_max_last", "int8"]
    x = np.random.default_rng(5).integers(-2, 2, (2, 5, 7)).astype(np.int8)
    check_model(model, None, inputs=[x])


@pytest.mark.parametrize("name", ["gather_batch_dims", "arg_max_axis1", "depth_to_space_3",
                                  "space_to_depth_2"])
def test_qemu_equals_tflm(models, name):
    check_model(models[name, "int8"], np.random.default_rng(3), executors=("qemu",))
    check_model(models[name, "float32"], np.random.default_rng(4), executors=("qemu",),
                target="cortex-m0")


@pytest.fixture(scope="module")
def embedding():
    """A float32 table (constant) read with runtime int32 indices (the model's input)."""
    table = np.random.default_rng(8).standard_normal((10, 6)).astype(np.float32)
    t = tf()
    module = t.Module()
    module.f = t.function(lambda i: t.gather(table, i),
                          input_signature=[t.TensorSpec((1, 4), t.int32)])
    conv = t.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()],
                                                           module)
    return conv.convert()


def test_runtime_indices_equal_tflm_and_bad_ones_are_errors(embedding):
    idx = np.asarray([[3, 0, 9, 3]], np.int32)
    check_model(embedding, None, inputs=[idx], executors=("host", "qemu"))
    graph = load_tflite(embedding)
    bad = np.asarray([[3, 10, 0, 1]], np.int32)
    with pytest.raises(UsageError, match="GATHER .*index 10 outside \\[0, 10\\)"):
        run_graph(graph, [bad])
    with pytest.raises(ExecutionError, match="op 0 \\(GATHER\\) failed .*FITML_ERR_ARGUMENT"):
        get_executor("host")(graph, [bad])


@pytest.mark.parametrize("kind, ins, attrs, needle", [
    ("GATHER", [("x", (2, 3), "int8"), ("i", [5])], dict(axis=1), "leave \\[0, 3\\)"),
    ("GATHER", [("x", (2, 3), "int16"), ("i", [0])], dict(axis=1), "int16 input"),
    ("GATHER", [("x", (2, 3), "int8"), ("i", [0])], dict(axis=2), "axis 2 out of range"),
    ("ARG_MAX", [("x", (2, 3), "int8"), ("a", [1])], dict(output_type="int64"),
     "int64 output"),
    ("DEPTH_TO_SPACE", [("x", (1, 2, 2, 6), "int8")], dict(block_size=2),
     "not a multiple of block_size"),
    ("SPACE_TO_DEPTH", [("x", (1, 3, 4, 2), "int8")], dict(block_size=2),
     "not a multiple of block_size"),
    ("SPACE_TO_DEPTH", [("x", (1, 4, 4, 2), "int32")], dict(block_size=2), "int32 input"),
])
def test_what_tflm_refuses_is_refused(kind, ins, attrs, needle):
    tensors = [act(n, s, d) if len(spec) == 3 else const(n, np.asarray(s, np.int32))
               for spec in ins for n, s, d in [(spec + (None,))[:3]]]
    with pytest.raises(GraphError, match=needle):
        registry.get(kind).infer(Op(kind, [t.name for t in tensors], [], attrs), tensors)
