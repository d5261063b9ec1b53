"""BATCH_MATMUL: converter models (tf.matmul of two activations, adjoint flags, broadcast batch
dims; float32, int8, 16x8) run the same in the reference, TFLite Micro, generated C on the host
and under QEMU; one-op graphs (rank 2 to 5, zero points, a constant operand) vs TFLM, LiteRT and
host C; the written file runs in LiteRT's default resolver; ONNX MatMul and torch bmm of two
activations map to it (MatMul by a constant stays FULLY_CONNECTED), fitml's PTQ quantizes it;
shapes TFLM refuses fail with one clean line."""
from __future__ import annotations


import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

# (name, lhs shape, rhs shape, adj_x, adj_y)
CONVERTED = [("plain", (2, 3, 4), (2, 4, 5), False, False),
             ("adjoints", (2, 4, 3), (2, 5, 4), True, True),
             ("broadcast", (2, 1, 3, 4), (3, 4, 5), False, False)]
SCALE = {"float32": None, "int8": 0.05, "int16": 1.0 / 4096}


def model_fn(adj_x: bool, adj_y: bool):
    import tensorflow as tf  # lazy: only the converter fixtures need it

    def product(a, b):
        return tf.matmul(a, b, adjoint_a=adj_x, adjoint_b=adj_y)
    return tf.function(product)


@pytest.fixture(scope="module", params=[(c, m) for c in CONVERTED for m in co.MODES],
                ids=lambda p: f"{p[0][0]}-{p[1]}")
def model(request, tmp_path_factory):
    pytest.importorskip("tensorflow")
    (_, lhs, rhs, adj_x, adj_y), mode = request.param
    # an asymmetric range gives the int8 operands nonzero zero points
    return co.build(model_fn(adj_x, adj_y), [lhs, rhs], mode, tmp_path_factory, -1.0, 3.0)


def test_converter_emits_batch_matmul(model):
    assert co.kinds(model) == {"BATCH_MATMUL"}, co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=1e-5)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=1e-5)


# one-op graphs: ranks 2 to 5, broadcasting either side, every adjoint combination
ONE_OP = [((3, 4), (2, 2, 4, 6), False, False), ((2, 1, 4, 3), (3, 5, 4), True, True),
          ((1, 2, 1, 3, 4), (2, 1, 5, 4), False, True), ((2, 6, 3), (6, 2), True, False)]


def one_op_graph(dtype, lhs, rhs, adj_x, adj_y, rhs_const=None):
    s = SCALE[dtype]
    zps = (3, -5, 7) if dtype == "int8" else (None, None, None)
    x = oplab.act("x", lhs, dtype, s, zps[0])
    y = (oplab.act("y", rhs, dtype, s, zps[1]) if rhs_const is None else
         oplab.const("y", rhs_const, scale=s, zp=zps[1]))
    attrs = dict(adj_x=adj_x, adj_y=adj_y)
    out = oplab.out_like("BATCH_MATMUL", [x, y], attrs, scale=s and s * 8, zp=zps[2])
    return oplab.one_op("BATCH_MATMUL", [x, y], attrs, out)


@pytest.mark.parametrize("dtype", sorted(SCALE))
@pytest.mark.parametrize("case", ONE_OP, ids=str)
def test_one_op_equals_tflm_litert_and_host_c(dtype, case):
    g = one_op_graph(dtype, *case)
    oplab.check_tflm(g, np.random.default_rng(5), litert=True)
    x = oplab.random_inputs(g, np.random.default_rng(6))
    co.assert_same(run_graph(g, x)[0], get_executor("host")(g, x).outputs[0], "host", 1e-5)


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_constant_rhs_equals_tflm_and_c(dtype):
    rng = np.random.default_rng(8)
    data = (rng.standard_normal((3, 4, 5)).astype(np.float32) if dtype == "float32" else
            rng.integers(-128, 128, (3, 4, 5)).astype(np.int8))
    g = one_op_graph(dtype, (2, 3, 3, 4), (3, 4, 5), False, False, rhs_const=data)
    oplab.check_tflm(g, rng)
    x = oplab.random_inputs(g, rng)
    co.assert_same(run_graph(g, x)[0], get_executor("host")(g, x).outputs[0], "host", 1e-5)


@pytest.mark.parametrize("dtype", sorted(SCALE))
def test_written_file_runs_in_litert_default_resolver(dtype, pool):
    from toolchain.verify.litert import run_litert_default

    g = one_op_graph(dtype, *ONE_OP[1])
    x = oplab.random_inputs(g, np.random.default_rng(2))
    got = np.asarray(pool.submit(run_litert_default, write_tflite(g), x).result()[0])
    want = run_graph(g, x)[0]
    if dtype == "float32":
        oplab.assert_close(want, got.reshape(want.shape), 1e-4, "litert default")
    else:    # optimized kernels may round a step differently
        assert np.abs(want.astype(np.int64) - got.reshape(want.shape)).max() <= 1


@pytest.mark.parametrize("lhs,rhs,attrs,match", [
    ((2, 3, 4), (2, 5, 6), {}, "inner dimensions differ"),
    ((2, 3, 4), (3, 4, 5), {}, "batch dimensions do not broadcast"),
    ((1, 1, 1, 1, 2, 3, 4), (3, 4, 5), {}, "rank 2 to 5"),
    ((2, 3, 4), (2, 5, 3), {"adj_y": True}, "inner dimensions differ")])
def test_unsupported_shapes_fail_with_one_line(lhs, rhs, attrs, match):
    x, y = oplab.act("x", lhs, "float32"), oplab.act("y", rhs, "float32")
    with pytest.raises(GraphError, match=match) as err:
        oplab.one_op("BATCH_MATMUL", [x, y], attrs, oplab.act("out", (2, 3, 5), "float32"))
    assert "\n" not in str(err.value)


def test_cli_reports_a_bad_onnx_matmul_cleanly(tmp_path):
    onnx = pytest.importorskip("onnx")
    from cli_util import fitml, one_clear_line
    from onnx import TensorProto, helper

    f = TensorProto.FLOAT
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["out"])], "g",
                              [helper.make_tensor_value_info("a", f, [2, 3, 4]),
                               helper.make_tensor_value_info("b", f, [3, 4, 5])],
                              [helper.make_tensor_value_info("out", f, [2, 3, 5])])
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    proc = fitml("inspect", path)
    assert proc.returncode == 2, proc.stderr
    assert "batch dimensions do not broadcast" in one_clear_line(proc)


def onnx_matmul(tmp_path, a_shape, b_shape, b_value=None):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    f = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("a", f, list(a_shape))]
    inits = []
    if b_value is None:
        inputs.append(helper.make_tensor_value_info("b", f, list(b_shape)))
    else:
        inits.append(numpy_helper.from_array(b_value, "b"))
    out = list(np.broadcast_shapes(a_shape[:-2], b_shape[:-2])) + [a_shape[-2], b_shape[-1]]
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["out"])], "g", inputs,
                              [helper.make_tensor_value_info("out", f, out)], inits)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return str(path)


def test_onnx_matmul_of_two_activations_and_by_a_constant(tmp_path):
    pytest.importorskip("onnx")
    from toolchain.frontends.onnx import load_onnx

    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 4)).astype(np.float32)         # broadcast against b's batch
    b = rng.standard_normal((2, 4, 5)).astype(np.float32)
    g = load_onnx(onnx_matmul(tmp_path, a.shape, b.shape))
    assert [op.kind for op in g.ops] == ["BATCH_MATMUL"]
    oplab.assert_close(a @ b, run_graph(g, [a, b])[0], 1e-5, "onnx two activations")
    w = rng.standard_normal((4, 5)).astype(np.float32)
    g = load_onnx(onnx_matmul(tmp_path, a.shape, w.shape, w))
    assert [op.kind for op in g.ops] == ["FULLY_CONNECTED"]
    oplab.assert_close(a @ w, run_graph(g, [a])[0], 1e-5, "onnx by a constant")


def test_torch_bmm_and_matmul_of_two_activations(tmp_path):
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch

    rng = np.random.default_rng(6)
    a, b, c, d = (rng.standard_normal(s).astype(np.float32)
                  for s in ((2, 3, 4), (2, 5, 4), (1, 4, 6), (4, 7)))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.from_numpy(d))

        def forward(self, a, b, c):
            return (torch.bmm(a, b.transpose(1, 2)), torch.matmul(a, c),   # c broadcasts a
                    torch.matmul(a, self.w))

    args = tuple(torch.from_numpy(v) for v in (a, b, c))
    torch.export.save(torch.export.export(Net().eval(), args), str(tmp_path / "m.pt2"))
    g = load_torch(str(tmp_path / "m.pt2"))
    kinds = [op.kind for op in g.ops]
    assert sorted(kinds) == ["BATCH_MATMUL", "BATCH_MATMUL", "FULLY_CONNECTED"], kinds
    assert g.ops[0].attrs["adj_y"], g.ops[0]      # b.transpose(1, 2) is read in place
    got = run_graph(g, [a, b, c])
    oplab.assert_close(a @ b.transpose(0, 2, 1), got[0].reshape(2, 3, 5), 1e-5, "torch bmm")
    oplab.assert_close(a @ c, got[1].reshape(2, 3, 6), 1e-5, "torch matmul broadcast")
    oplab.assert_close(a @ d, got[2].reshape(2, 3, 7), 1e-5, "torch matmul by a weight")


def test_per_channel_or_mixed_operands_are_refused():
    x = oplab.act("x", (2, 3, 4), "int8")
    w = oplab.const("y", np.ones((4, 5), np.int8), scale=np.full(5, 0.1), axis=1)
    with pytest.raises(GraphError, match="per channel"):
        oplab.one_op("BATCH_MATMUL", [x, w], {}, oplab.act("out", (2, 3, 5), "int8"))
    wf = oplab.const("y", np.ones((4, 5), np.float32))
    with pytest.raises(GraphError, match="both must be one of"):
        oplab.one_op("BATCH_MATMUL", [x, wf], {}, oplab.act("out", (2, 3, 5), "int8"))


@pytest.mark.parametrize("activations", ["int8", "int16"])
def test_fitml_ptq_of_a_float_matmul_runs_as_tflm(tmp_path, activations):
    pytest.importorskip("onnx")
    from toolchain.api import quantize
    from toolchain.frontends.onnx import load_onnx

    g = load_onnx(onnx_matmul(tmp_path, (3, 4), (2, 4, 5)))
    rng = np.random.default_rng(3)
    q = quantize(g, [oplab.random_inputs(g, rng) for _ in range(8)], activations=activations,
                 progress=False)
    assert "BATCH_MATMUL" in {op.kind for op in q.ops}
    for _ in range(3):
        ref, tflm = oplab.run_reference_and_tflm(q, oplab.random_inputs(q, rng))
        oplab.assert_exact(ref[0], np.asarray(tflm[0]).reshape(ref[0].shape), activations)
    out = q.tensors[q.outputs[0]]
    x = [rng.uniform(-1, 1, g.tensors[n].shape).astype(np.float32) for n in g.inputs]
    xq = [np.clip(np.round(v / q.tensors[n].quant.s) + q.tensors[n].quant.zp, -128, 127)
          .astype(np.int8) for v, n in zip(x, q.inputs)]
    got = (run_graph(q, xq)[0].astype(np.float32) - out.quant.zp) * out.quant.s
    assert np.abs(got - run_graph(g, x)[0]).max() < 6 * out.quant.s


@pytest.mark.parametrize("dtype,s_out,match", [("int8", 1e-12, "too large"),
                                               ("int16", 1e-6, "too small for int16")])
def test_output_scale_too_small_is_refused(dtype, s_out, match):
    x, y = oplab.act("x", (2, 3, 4), dtype, 1.0, 0), oplab.act("y", (2, 4, 5), dtype, 1.0, 0)
    with pytest.raises(GraphError, match=match):
        oplab.one_op("BATCH_MATMUL", [x, y], {}, oplab.act("out", (2, 3, 5), dtype, s_out, 0))
