"""SHAPE with static shapes folds away: a flatten written as SHAPE -> STRIDED_SLICE -> PACK ->
RESHAPE (what TensorFlow emits for tf.reshape(x, [tf.shape(x)[0], -1])) validates, the
cleanup folds the shape math to a constant, and the result equals TFLite Micro running the
file with the SHAPE ops, in the reference and in the host C.
"""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from tf_convert import same
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, GraphError, Op, Tensor
from toolchain.ops.interpreter import run_graph
from toolchain.passes.fold_constants import fold_constants
from toolchain.verify.executors import get_executor
from toolchain.verify.tflm import run_tflm


def i32(name, values):
    return oplab.const(name, np.asarray(values, np.int32))


def flatten_graph(dtype: str, shape=(2, 3, 4, 2)) -> Graph:
    """x -> (shape math) -> RESHAPE [batch, -1] -> RELU."""
    x = oplab.act("x", shape, dtype, **(dict(scale=0.05, zp=3) if dtype == "int8" else {}))
    flat_shape = (shape[0], int(np.prod(shape[1:])))
    consts = [i32("begin", [0]), i32("end", [1]), i32("stride", [1]), i32("minus1", -1)]
    tensors = [x, *consts, Tensor("dims", (4,), "int32"), Tensor("batch", (), "int32"),
               Tensor("target", (2,), "int32"), x.replace(name="flat", shape=flat_shape),
               x.replace(name="y", shape=flat_shape)]
    ops = [Op("SHAPE", ["x"], ["dims"], dict(out_type="int32")),
           Op("STRIDED_SLICE", ["dims", "begin", "end", "stride"], ["batch"],
              dict(shrink_axis_mask=1)),
           Op("PACK", ["batch", "minus1"], ["target"], dict(values_count=2, axis=0)),
           Op("RESHAPE", ["x", "target"], ["flat"]),
           Op("RELU", ["flat"], ["y"])]
    return Graph.build(tensors, ops, ["x"], ["y"]).validate()


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_shape_math_folds_and_equals_tflm(dtype):
    graph = flatten_graph(dtype)
    model = write_tflite(graph)                   # SHAPE, STRIDED_SLICE, PACK kept
    assert [op.kind for op in load_tflite(model, cleanup=False).ops][:3] == \
        ["SHAPE", "STRIDED_SLICE", "PACK"]
    loaded = load_tflite(model)
    assert sorted(op.kind for op in loaded.ops) == ["RELU", "RESHAPE"], loaded.ops
    reshape = next(op for op in loaded.ops if op.kind == "RESHAPE")
    assert loaded.tensors[reshape.inputs[1]].data.tolist() == [2, -1]
    rng = np.random.default_rng(0)
    for _ in range(2):
        inputs = oplab.random_inputs(graph, rng)
        want = run_tflm(model, inputs)[0]
        same(want, run_graph(graph, inputs)[0], "reference before folding")
        same(want, run_graph(loaded, inputs)[0], "reference after folding")
        same(want, get_executor("host")(loaded, inputs).outputs[0], "host C")


def test_fold_pass_turns_shape_into_a_constant():
    folded = fold_constants(flatten_graph("int8"))
    assert "SHAPE" not in [op.kind for op in folded.ops]


def test_a_wrong_shape_computation_is_refused_by_name():
    """The slice takes dims[1] (3) instead of the batch (2): RESHAPE to [3, -1] mismatches."""
    graph = flatten_graph("int8")
    bad = [op.replace(inputs=["dims", "end", "end", "stride"]) if op.kind == "STRIDED_SLICE"
           else op for op in graph.ops]
    with pytest.raises(GraphError, match=r"RESHAPE.*inferred int8\[3, 16\]"):
        graph.replace(ops=bad).validate()
