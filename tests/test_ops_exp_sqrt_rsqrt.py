"""EXP, SQRT, RSQRT: converter models (float32; int8 RSQRT) run the same in the reference,
TFLite Micro, generated C on the host and under QEMU; int8 RSQRT over every non-negative code
on seeded scales vs TFLM; the ONNX (Exp, Sqrt) and torch.export (exp, sqrt, rsqrt) frontends
map to them."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph

SHAPES = [(1, 4, 4, 8), (2, 3, 5)]
LIBM_ATOL = 1e-5     # QEMU's newlib expf / sqrtf against glibc


def float_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.exp(a), tf.sqrt(tf.abs(b)), tf.math.rsqrt(tf.abs(a) + 0.1)]


def rsqrt_model(a):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.math.rsqrt(tf.abs(a) + 0.1)]


@pytest.fixture(scope="module")
def float_conv(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(float_model), SHAPES, "float32", tmp_path_factory)


@pytest.fixture(scope="module")
def rsqrt_int8(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(rsqrt_model), SHAPES[:1], "int8", tmp_path_factory)


def test_converter_emits_the_ops(float_conv, rsqrt_int8):
    assert {"EXP", "SQRT", "RSQRT"} <= co.kinds(float_conv), co.kinds(float_conv)
    assert "RSQRT" in co.kinds(rsqrt_int8), co.kinds(rsqrt_int8)


def test_reference_equals_tflm(float_conv, rsqrt_int8):
    co.check_tflm(float_conv, atol=0)
    co.check_tflm(rsqrt_int8, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(float_conv, rsqrt_int8, executor, target):
    co.check_c(float_conv, executor, target, atol=LIBM_ATOL)
    co.check_c(rsqrt_int8, executor, target, atol=0)


@pytest.mark.parametrize("seed", range(10))
def test_rsqrt_int8_every_code_matches_tflm(seed):
    """TFLM refuses negative inputs, so the codes run from the zero point up."""
    rng = np.random.default_rng(seed)
    s_in, s_out = (float(10 ** rng.uniform(-3, 0)) for _ in range(2))
    zp, zp_out = int(rng.integers(-128, 100)), int(rng.integers(-128, 128))
    codes = np.arange(zp, 128).astype(np.int8)
    x = oplab.act("x", codes.shape, "int8", s_in, zp)
    g = oplab.one_op("RSQRT", [x], {}, oplab.act("out", codes.shape, "int8", s_out, zp_out))
    ref, tflm = oplab.run_reference_and_tflm(g, [codes])
    oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), "tflm")


def test_integer_exp_and_sqrt_are_refused():
    x = oplab.act("x", (4,), "int8")
    for kind in ("EXP", "SQRT"):
        with pytest.raises(GraphError, match=f"{kind}: dtype int8 not supported"):
            oplab.one_op(kind, [x], {}, oplab.act("out", (4,), "int8"))


def test_onnx_and_torch_frontends(tmp_path):
    onnx = pytest.importorskip("onnx")
    torch = pytest.importorskip("torch")
    from onnx import TensorProto, helper

    from toolchain.frontends.onnx import load_onnx
    from toolchain.frontends.torch_export import load_torch

    f = TensorProto.FLOAT
    nodes = [helper.make_node("Exp", ["x"], ["e"]), helper.make_node("Sqrt", ["e"], ["out"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", f, [2, 5])],
                              [helper.make_tensor_value_info("out", f, [2, 5])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              str(tmp_path / "m.onnx"))
    x = np.random.default_rng(6).standard_normal((2, 5)).astype(np.float32)
    g = load_onnx(str(tmp_path / "m.onnx"))
    assert [op.kind for op in g.ops] == ["EXP", "SQRT"]
    oplab.assert_close(np.sqrt(np.exp(x)), run_graph(g, [x])[0], 1e-6, "onnx")

    class Net(torch.nn.Module):
        def forward(self, v):
            return torch.rsqrt(torch.sqrt(torch.exp(v)))

    torch.export.save(torch.export.export(Net(), (torch.from_numpy(x),)),
                      str(tmp_path / "m.pt2"))
    g = load_torch(str(tmp_path / "m.pt2"))
    assert {"EXP", "SQRT", "RSQRT"} <= {op.kind for op in g.ops}
    want = Net()(torch.from_numpy(x)).numpy()
    oplab.assert_close(want, run_graph(g, [x])[0].reshape(want.shape), 1e-6, "torch")
