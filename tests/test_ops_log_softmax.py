"""LOG_SOFTMAX: converter models (float32, int8; TF has no 16x8 LOG_SOFTMAX) run the same in
the reference, TFLite Micro, generated C on the host and under QEMU; int8 on seeded scales,
zero points and row lengths vs TFLM; TFLM's output quantization is enforced; the ONNX and
torch.export frontends map LogSoftmax / log_softmax to it."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(2, 3, 10), (10,), (4, 33)]
FLOAT_ATOL = 2e-5      # TFLM sums the exps in order, numpy pairwise


def log_softmaxes(a, b, c):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.nn.log_softmax(a + b), tf.nn.log_softmax(c * 3.0)]


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(log_softmaxes), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_log_softmax(model):
    assert "LOG_SOFTMAX" in co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=FLOAT_ATOL)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=FLOAT_ATOL)


@pytest.mark.parametrize("seed", range(16))
def test_int8_matches_tflm(seed):
    """Input scales from 1e-3 to 3, row lengths 1 to 300: cut-offs, saturation, long sums."""
    rng = np.random.default_rng(seed)
    s_in = float(10 ** rng.uniform(-3, 0.5))
    depth = int(rng.choice([1, 2, 7, 40, 300]))
    x = oplab.act("x", (5, depth), "int8", s_in, int(rng.integers(-128, 128)))
    g = oplab.one_op("LOG_SOFTMAX", [x], {}, oplab.act("out", (5, depth), "int8", 1 / 16, 127))
    oplab.check_tflm(g, rng)


def test_int8_output_quantization_is_tflms():
    x = oplab.act("x", (2, 8), "int8", 0.1, 0)
    with pytest.raises(GraphError, match="LOG_SOFTMAX: int8 output must have scale 16/256"):
        oplab.one_op("LOG_SOFTMAX", [x], {}, oplab.act("out", (2, 8), "int8", 1 / 256, -128))


def test_onnx_and_torch_log_softmax(tmp_path):
    onnx = pytest.importorskip("onnx")
    torch = pytest.importorskip("torch")
    from onnx import TensorProto, helper

    from toolchain.frontends.onnx import load_onnx
    from toolchain.frontends.torch_export import load_torch

    f = TensorProto.FLOAT
    node = helper.make_node("LogSoftmax", ["x"], ["out"], axis=1)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", f, [2, 6, 3])],
                              [helper.make_tensor_value_info("out", f, [2, 6, 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              str(tmp_path / "m.onnx"))
    x = np.random.default_rng(3).standard_normal((2, 6, 3)).astype(np.float32)
    want = torch.log_softmax(torch.from_numpy(x), dim=1).numpy()
    g = load_onnx(str(tmp_path / "m.onnx"))
    assert "LOG_SOFTMAX" in {op.kind for op in g.ops}
    oplab.assert_close(want, run_graph(g, [x])[0].reshape(want.shape), 1e-5, "onnx")

    class Net(torch.nn.Module):
        def forward(self, v):
            return torch.log_softmax(v, dim=1)

    torch.export.save(torch.export.export(Net(), (torch.from_numpy(x),)),
                      str(tmp_path / "m.pt2"))
    g = load_torch(str(tmp_path / "m.pt2"))
    assert "LOG_SOFTMAX" in {op.kind for op in g.ops}
    oplab.assert_close(want, run_graph(g, [x])[0].reshape(want.shape), 1e-5, "torch")
