"""ONNX (Equal, Greater, LessOrEqual, And, Or, Not, Floor, Ceil, Round, Sin, Cos, Log) and
torch.export (eq, ne, gt, ge, lt, le, logical_and / or / not, & and |, floor, ceil, round,
square, sin, cos, log, remainder) map to the comparison, logical, float unary and FLOOR_MOD
ops: the reference equals onnxruntime / torch, and the host C equals the reference (libm ops
within one ulp)."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

LIBM_ATOL = 4.8e-7      # one float32 ulp at 4: sin / cos / log through libm


def inputs():
    rng = np.random.default_rng(7)
    x = np.round(rng.standard_normal((2, 5)) * 6).astype(np.float32) / 2    # ties for round
    y = x[0].copy()
    y[1] += 1
    return x, y


def host_equals_reference(g, xs):
    want = run_graph(g, list(xs))[0]
    got = np.asarray(get_executor("host")(g, list(xs)).outputs[0]).reshape(want.shape)
    oplab.assert_close(want, got, LIBM_ATOL, "host")


def test_onnx_nodes(tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    from toolchain.frontends.onnx import load_onnx

    def node(op, ins, out):
        return helper.make_node(op, ins, [out])
    nodes = [node("Greater", ["x", "y"], "g"), node("LessOrEqual", ["x", "y"], "le"),
             node("Equal", ["x", "y"], "eq"), node("Or", ["g", "eq"], "o"),
             node("Not", ["o"], "n"), node("And", ["n", "le"], "a"),
             node("Floor", ["x"], "fl"), node("Ceil", ["fl"], "ce"), node("Round", ["x"], "r"),
             node("Add", ["ce", "r"], "s0"), node("Sin", ["s0"], "s"), node("Cos", ["s"], "c"),
             node("Log", ["c"], "l"), node("Where", ["a", "l", "r"], "out")]
    f = TensorProto.FLOAT
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", f, [2, 5]),
                                           helper.make_tensor_value_info("y", f, [5])],
                              [helper.make_tensor_value_info("out", f, [2, 5])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8            # what the installed onnxruntime reads
    path = str(tmp_path / "m.onnx")
    onnx.save(model, path)
    g = load_onnx(path)
    kinds = {op.kind for op in g.ops}
    assert {"GREATER", "LESS_EQUAL", "EQUAL", "LOGICAL_OR", "LOGICAL_NOT", "LOGICAL_AND",
            "FLOOR", "CEIL", "ROUND", "SIN", "COS", "LOG"} <= kinds, kinds
    x, y = inputs()
    want = ort.InferenceSession(path).run(None, {"x": x, "y": y})[0]
    oplab.assert_close(want, run_graph(g, [x, y])[0], LIBM_ATOL, "onnxruntime")
    host_equals_reference(g, (x, y))


def test_torch_export(tmp_path):
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch

    class Net(torch.nn.Module):
        def forward(self, v, w):
            m = torch.logical_and(v > w, torch.logical_not(torch.logical_or(v == 0.5, v <= -1)))
            m = torch.logical_or(m, torch.ne(v, w) & (v >= w) | (v < 0.1))
            far = torch.log(torch.cos(torch.sin(torch.floor(torch.ceil(w)))) + 2)
            mod = torch.remainder(v, w * w + 0.5)
            return torch.where(m, torch.round(torch.square(v)), far) + mod

    x, y = inputs()
    path = str(tmp_path / "m.pt2")
    torch.export.save(torch.export.export(Net(), (torch.from_numpy(x), torch.from_numpy(y))),
                      path)
    g = load_torch(path)
    kinds = {op.kind for op in g.ops}
    assert {"GREATER", "EQUAL", "LESS_EQUAL", "NOT_EQUAL", "GREATER_EQUAL", "LESS",
            "LOGICAL_OR", "LOGICAL_NOT", "LOGICAL_AND", "SQUARE", "ROUND", "CEIL", "FLOOR",
            "SIN", "COS", "LOG", "FLOOR_MOD"} <= kinds, kinds
    want = Net()(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    oplab.assert_close(want, run_graph(g, [x, y])[0].reshape(want.shape), LIBM_ATOL, "torch")
    host_equals_reference(g, (x, y))
