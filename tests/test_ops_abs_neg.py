"""ABS (float32, int8, 16x8) and NEG (float32; TFLM has no integer NEG): converter models run
the same in the reference, TFLite Micro, generated C on the host and under QEMU; int8 / int16
ABS over every code on seeded scales (equal scales take TFLM's no-rescale path); the ONNX and
torch.export frontends map Abs / Neg / Max / Min to these ops."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(1, 4, 4, 8), (2, 3, 5)]


def abs_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.abs(a), tf.abs(b) + b]


def neg_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.negative(a), tf.negative(tf.abs(b))]


@pytest.fixture(scope="module", params=co.MODES)
def abs_conv(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(abs_model), SHAPES, request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def neg_conv(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(neg_model), SHAPES, "float32", tmp_path_factory)


def test_converter_emits_abs_and_neg(abs_conv, neg_conv):
    assert "ABS" in co.kinds(abs_conv), co.kinds(abs_conv)
    assert "NEG" in co.kinds(neg_conv), co.kinds(neg_conv)


def test_reference_equals_tflm(abs_conv, neg_conv):
    co.check_tflm(abs_conv, atol=0)
    co.check_tflm(neg_conv, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(abs_conv, neg_conv, executor, target):
    co.check_c(abs_conv, executor, target, atol=0)
    if abs_conv.graph.tensors[abs_conv.graph.inputs[0]].dtype == "float32":
        co.check_c(neg_conv, executor, target, atol=0)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("seed", range(6))
def test_quantized_abs_every_code_matches_tflm(dtype, seed):
    """Every input code; seed 0 has equal scales (no rescale), the rest random ratios."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    s_in = float(10 ** rng.uniform(-3, -1)) if dtype == "int8" else 1 / 4096
    s_out = s_in if seed == 0 else s_in * float(rng.uniform(0.3, 3.0))
    zp_in, zp_out = (0, 0) if dtype == "int16" else (int(z) for z in rng.integers(-128, 128, 2))
    codes = np.arange(info.min, info.max + 1).astype(dtype)
    x = oplab.act("x", codes.shape, dtype, s_in, zp_in)
    g = oplab.one_op("ABS", [x], {}, oplab.act("out", codes.shape, dtype, s_out, zp_out))
    ref, tflm = oplab.run_reference_and_tflm(g, [codes])
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")


def test_neg_integer_is_refused():
    x = oplab.act("x", (4,), "int8")
    with pytest.raises(GraphError, match="NEG: dtype int8 not supported"):
        oplab.one_op("NEG", [x], {}, oplab.act("out", (4,), "int8"))


def test_abs_int16_needs_zero_points_zero():
    x = oplab.act("x", (4,), "int16", 1 / 4096, 3)
    with pytest.raises(GraphError, match="ABS: int16 input and output need zero point 0"):
        oplab.one_op("ABS", [x], {}, oplab.act("out", (4,), "int16", 1 / 4096, 0))


def test_onnx_abs_neg_max_min(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from toolchain.frontends.onnx import load_onnx

    f = TensorProto.FLOAT
    nodes = [helper.make_node("Abs", ["x"], ["a"]), helper.make_node("Neg", ["a"], ["n"]),
             helper.make_node("Max", ["n", "y", "x"], ["m"]),
             helper.make_node("Min", ["m", "y"], ["out"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", f, [2, 3, 4]),
                                           helper.make_tensor_value_info("y", f, [4])],
                              [helper.make_tensor_value_info("out", f, [2, 3, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    g = load_onnx(str(path))
    assert [op.kind for op in g.ops] == ["ABS", "NEG", "MAXIMUM", "MAXIMUM", "MINIMUM"]
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    y = rng.standard_normal(4).astype(np.float32)
    want = np.minimum(np.maximum(np.maximum(-np.abs(x), y), x), y)
    np.testing.assert_array_equal(run_graph(g, [x, y])[0], want)


def test_torch_export_abs_neg_maximum_minimum(tmp_path):
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch

    class Net(torch.nn.Module):
        def forward(self, x, y):
            return torch.minimum(torch.maximum(-torch.abs(x), y), x)

    args = (torch.randn(1, 3, 5), torch.randn(5))
    path = tmp_path / "m.pt2"
    torch.export.save(torch.export.export(Net(), args), str(path))
    g = load_torch(str(path))
    assert {"ABS", "NEG", "MAXIMUM", "MINIMUM"} <= {op.kind for op in g.ops}
    want = Net()(*args).numpy()
    got = run_graph(g, [a.numpy() for a in args])[0]
    np.testing.assert_array_equal(got.reshape(want.shape), want)


def test_abs_multiplier_beyond_a_31_bit_shift_is_refused():
    x = oplab.act("x", (4,), "int8", 1.0, 0)
    with pytest.raises(GraphError, match="ABS: input / output scale .* too large"):
        oplab.one_op("ABS", [x], {}, oplab.act("out", (4,), "int8", 1e-12, 0))
