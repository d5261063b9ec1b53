"""DIV: converter models (float32, int8; TF has no 16x8 DIV) run the same in the reference,
TFLite Micro, generated C on the host and under QEMU; int8 over every (q1, q2) pair on seeded
scales, zero points and activations vs TFLM (small numerators and zero divisors included, where
TFLM's arithmetic is undefined and fitml follows the build it verifies against); the ONNX and
torch.export frontends map a division by an activation to DIV."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(1, 4, 4, 8), (1, 4, 4, 8), (8,)]
GRID = np.arange(-128, 128).astype(np.int8)


def divisions(a, b, c):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [a / (tf.abs(b) + 0.5), tf.nn.relu(b / (tf.abs(c) + 0.25))]


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(divisions), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_div(model):
    assert "DIV" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


@pytest.mark.parametrize("seed", range(10))
def test_int8_every_input_pair_matches_tflm(seed):
    rng = np.random.default_rng(70 + seed)
    s1, s2 = (float(10 ** rng.uniform(-3, 0)) for _ in range(2))
    s_out = s1 / s2 * float(10 ** rng.uniform(-1.5, 2))
    zp1, zp2, zpo = (int(z) for z in rng.integers(-128, 128, 3))
    x = oplab.act("x", (256, 1), "int8", s1, zp1)
    y = oplab.act("y", (1, 256), "int8", s2, zp2)
    act = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")[seed % 4]
    g = oplab.one_op("DIV", [x, y], {"activation": act},
                     oplab.act("out", (256, 256), "int8", s_out, zpo))
    ref, tflm = oplab.run_reference_and_tflm(g, [GRID.reshape(256, 1), GRID.reshape(1, 256)])
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")


def test_int8_output_scale_too_small_is_refused():
    x, y = oplab.act("x", (4,), "int8", 1.0, 0), oplab.act("y", (4,), "int8", 1e-3, 0)
    with pytest.raises(GraphError, match="DIV: output scale"):
        oplab.one_op("DIV", [x, y], {}, oplab.act("out", (4,), "int8", 1e-5, 0))


def test_onnx_and_torch_div_by_activation(tmp_path):
    onnx = pytest.importorskip("onnx")
    torch = pytest.importorskip("torch")
    from onnx import TensorProto, helper

    from toolchain.frontends.onnx import load_onnx
    from toolchain.frontends.torch_export import load_torch

    f = TensorProto.FLOAT
    graph = helper.make_graph([helper.make_node("Div", ["x", "y"], ["out"])], "g",
                              [helper.make_tensor_value_info("x", f, [2, 3, 4]),
                               helper.make_tensor_value_info("y", f, [4])],
                              [helper.make_tensor_value_info("out", f, [2, 3, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              str(tmp_path / "m.onnx"))
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    y = (rng.uniform(0.5, 2, 4) * rng.choice([-1, 1], 4)).astype(np.float32)
    g = load_onnx(str(tmp_path / "m.onnx"))
    assert [op.kind for op in g.ops] == ["DIV"]
    np.testing.assert_array_equal(run_graph(g, [x, y])[0], x / y)

    class Net(torch.nn.Module):
        def forward(self, a, b):
            return a / b

    args = (torch.from_numpy(x), torch.from_numpy(y))
    torch.export.save(torch.export.export(Net(), args), str(tmp_path / "m.pt2"))
    g = load_torch(str(tmp_path / "m.pt2"))
    assert "DIV" in {op.kind for op in g.ops}
    np.testing.assert_array_equal(run_graph(g, [x, y])[0].reshape(x.shape), x / y)
