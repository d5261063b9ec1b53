"""SELECT_V2 and SELECT (tf.where): converter models (float32, int8, 16x8) run the same in the
reference and generated C on the host and under QEMU; SELECT_V2 (the condition or a value
broadcast) equals TFLite Micro, SELECT (equal shapes, which TF converts to the v1 op that TFLM
has no kernel for) equals LiteRT. Quantized values must share one scale and zero point (TF's
16x8 SELECT does not give them one, so fitml refuses it)."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.litert import run_litert

V2_SHAPES = [("bool", (1, 4, 4, 8)), ("bool", (4, 1, 1)), (1, 4, 4, 8), (8,)]
V1_SHAPES = [("bool", (2, 3, 5)), (2, 3, 5), (2, 3, 5)]


def broadcast_selects(c1, c2, a, d):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.where(c2, a, d), tf.where(c1, d, a)]


def equal_shape_select(c, a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.where(c, a, b)]


@pytest.fixture(scope="module", params=["float32", "int8"])   # TF has no 16x8 SELECT_V2
def v2(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(broadcast_selects), V2_SHAPES, request.param, tmp_path_factory)


@pytest.fixture(scope="module", params=["float32", "int8"])   # 16x8: scales differ
def v1(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(equal_shape_select), V1_SHAPES, request.param,
                    tmp_path_factory)


def test_converter_emits_select_v2_and_select(v2, v1):
    assert co.kinds(v2) >= {"SELECT_V2"} and "SELECT" not in co.kinds(v2), co.kinds(v2)
    assert "SELECT" in co.kinds(v1), co.kinds(v1)


def test_select_v2_reference_equals_tflm(v2):
    co.check_tflm(v2, atol=0)


def test_select_reference_equals_litert(v1):
    for i, x in enumerate(v1.cases):
        want = run_graph(v1.graph, x)[0]
        co.assert_same(want, run_litert(v1.blob, x)[0], f"litert case {i}", atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(v2, v1, executor, target):
    co.check_c(v2, executor, target, atol=0)
    co.check_c(v1, executor, target, atol=0)


def test_int16_select_v2_matches_tflm(rng):
    """TF's converter quantizes no SELECT_V2 to 16x8; TFLM has the int16 kernel."""
    q = (1 / 4096, 0)
    c = oplab.act("c", (3, 1, 5), "bool")
    x, y = oplab.act("x", (4, 1), "int16", *q), oplab.act("y", (3, 4, 5), "int16", *q)
    g = oplab.one_op("SELECT_V2", [c, x, y], {}, oplab.act("out", (3, 4, 5), "int16", *q))
    oplab.check_tflm(g, rng)


def test_select_rank_one_condition_picks_rows():
    c = oplab.act("c", (3,), "bool")
    x, y = oplab.act("x", (3, 2), "float32"), oplab.act("y", (3, 2), "float32")
    g = oplab.one_op("SELECT", [c, x, y], {}, oplab.act("out", (3, 2), "float32"))
    a, b = np.arange(6, dtype=np.float32).reshape(3, 2), -np.ones((3, 2), np.float32)
    out = run_graph(g, [np.array([True, False, True]), a, b])[0]
    np.testing.assert_array_equal(out, [[0, 1], [-1, -1], [4, 5]])


def test_condition_must_be_bool_and_values_share_params():
    c = oplab.act("c", (4,), "bool")
    x, y = oplab.act("x", (4,), scale=0.1, zp=1), oplab.act("y", (4,), scale=0.2, zp=1)
    with pytest.raises(GraphError, match="SELECT_V2: quantized x, y and output must share"):
        oplab.one_op("SELECT_V2", [c, x, y], {}, oplab.act("out", (4,), scale=0.1, zp=1))
    with pytest.raises(GraphError, match="SELECT_V2: condition must be bool"):
        oplab.one_op("SELECT_V2", [x, x, x], {}, oplab.act("out", (4,), scale=0.1, zp=1))


def test_onnx_where_and_torch_where(tmp_path):
    onnx = pytest.importorskip("onnx")
    torch = pytest.importorskip("torch")
    from onnx import TensorProto, helper

    from toolchain.frontends.onnx import load_onnx
    from toolchain.frontends.torch_export import load_torch

    from onnx import numpy_helper

    rng = np.random.default_rng(8)
    c = rng.integers(0, 2, (3, 1)).astype(np.bool_)      # a constant mask (no bool inputs)
    x, y = rng.standard_normal((3, 4)).astype(np.float32), np.arange(4, dtype=np.float32)
    f = TensorProto.FLOAT
    graph = helper.make_graph([helper.make_node("Where", ["c", "x", "y"], ["out"])], "g",
                              [helper.make_tensor_value_info("x", f, [3, 4]),
                               helper.make_tensor_value_info("y", f, [4])],
                              [helper.make_tensor_value_info("out", f, [3, 4])],
                              [numpy_helper.from_array(c, "c")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              str(tmp_path / "m.onnx"))
    g = load_onnx(str(tmp_path / "m.onnx"))
    assert [op.kind for op in g.ops] == ["SELECT_V2"]
    np.testing.assert_array_equal(run_graph(g, [x, y])[0], np.where(c, x, y))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mask", torch.from_numpy(c))

        def forward(self, a, b):
            return torch.where(self.mask, a, b)

    args = (torch.from_numpy(x), torch.from_numpy(y))
    torch.export.save(torch.export.export(Net(), args), str(tmp_path / "m.pt2"))
    g = load_torch(str(tmp_path / "m.pt2"))
    assert "SELECT_V2" in {op.kind for op in g.ops}
    np.testing.assert_array_equal(run_graph(g, [x, y])[0].reshape(3, 4), np.where(c, x, y))
