"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND: converter models (4-D NHWC and 3-D NHC, with
paddings and crops, a round trip around a convolution as the converter's dilated convolutions
have; float32 and int8, the int8 input range putting its zero point far from 0) run the same in
the reference, generated C on the host and under QEMU, and LiteRT's default resolver on the
written file; TFLite Micro too where no padding shows (its pad value is uninitialised memory);
the padding is the real zero; bad block shapes fail cleanly."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(1, 5, 6, 3), (4, 3, 4, 2), (2, 7, 3)]
KINDS = {"SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"}
PADDED = (0, 1, 3)      # outputs holding SPACE_TO_BATCH_ND padding


def space_batch(a, b, c):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    s2b = tf.space_to_batch_nd(a, [2, 3], [[1, 2], [0, 3]])
    dilated = tf.nn.relu(s2b * 0.5 + 0.25)
    return [s2b, tf.batch_to_space(dilated, [2, 3], [[1, 0], [2, 1]]),
            tf.batch_to_space(b, [2, 1], [[0, 1], [0, 0]]),
            tf.space_to_batch_nd(c, [2], [[2, 1]]),
            tf.batch_to_space(tf.space_to_batch_nd(c, [3], [[1, 1]]) + 1.0, [3], [[1, 1]])]


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(space_batch), SHAPES, request.param, tmp_path_factory,
                    low=0.5, high=4.0)


def test_converter_emits_both_ops(model):
    assert KINDS <= co.kinds(model), co.kinds(model)


def test_int8_zero_point_is_not_zero(model):
    x = model.graph.tensors[model.graph.inputs[0]]
    assert x.dtype == "float32" or x.quant.zp != 0, x.quant


def test_reference_equals_tflm_where_no_padding_shows(model):
    co.check_tflm(model, atol=0, skip=PADDED)


def test_padding_is_the_real_zero(model):
    """SPACE_TO_BATCH_ND of [1, 5, 6, 3] with paddings [[1, 2], [0, 3]], block [2, 3]: the
    first padded row lands in batch 0 (block offset (0, 0)) at its row 0."""
    out = run_graph(model.graph, model.cases[0])[0]
    t = model.graph.tensors[model.graph.outputs[0]]
    zero = t.quant.zp if t.dtype == "int8" else 0
    oplab.assert_exact(np.full(out[0, 0].shape, zero, out.dtype), out[0, 0], "padded row")


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def test_written_file_runs_in_litert_default_resolver(model, pool):
    for k, want, got in co.litert_default_outputs(model, pool):
        co.assert_same(want, got, f"litert default output {k}", 0)


@pytest.mark.parametrize("kind, shape, block, edges", [
    ("SPACE_TO_BATCH_ND", (1, 5, 6, 2), [2, 2], [[0, 0], [0, 0]]),      # 5 not a multiple
    ("SPACE_TO_BATCH_ND", (1, 4, 4, 2), [0, 2], [[0, 0], [0, 0]]),
    ("BATCH_TO_SPACE_ND", (3, 2, 2, 1), [2, 1], [[0, 0], [0, 0]]),      # batch 3 / 2
    ("BATCH_TO_SPACE_ND", (2, 2, 2, 1), [2, 1], [[3, 2], [0, 0]]),      # crops past the output
    ("BATCH_TO_SPACE_ND", (2, 2, 2, 1), [2], [[0, 0]]),                 # block rank
    ("SPACE_TO_BATCH_ND", (1, 4, 4, 2), np.array([2, 2], np.int64), [[0, 0], [0, 0]]),  # int64
])
def test_bad_geometry_is_refused(kind, shape, block, edges):
    ins = [oplab.act("x", shape, "float32"),
           oplab.const("block", np.asarray(block, getattr(block, "dtype", np.int32))),
           oplab.const("edges", np.array(edges, np.int32).reshape(-1, 2))]
    with pytest.raises(GraphError, match=f"{kind}: "):
        oplab.out_like(kind, ins, {})
