"""The ONNX reader maps PRelu with per-channel slopes to PRELU (one slope stays LEAKY_RELU),
ReduceSum to SUM and ReduceMax to REDUCE_MAX (axes as attribute or input, keepdims), and the
graphs compute what numpy does, in the reference and in generated C on the host."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
from toolchain.ops.interpreter import run_graph

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

F = TensorProto.FLOAT
SHAPE = (1, 3, 4, 5)


def load(tmp_path, nodes, inits, out_shapes, opset=13):
    from toolchain.frontends.onnx import load_onnx

    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, list(SHAPE))],
                              [helper.make_tensor_value_info(f"y{i}", F, s)
                               for i, s in enumerate(out_shapes)],
                              [numpy_helper.from_array(a, k) for k, a in inits.items()])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
              str(path))
    return load_onnx(str(path), keep_nchw_io=True)


def check(g, want):
    x = np.random.default_rng(3).standard_normal(SHAPE).astype(np.float32)
    got = run_graph(g, [x])
    for k, (w, a) in enumerate(zip(want(x), got)):
        co.assert_same(w.astype(np.float32), np.asarray(a).reshape(w.shape), f"output {k}", 1e-5)
    co.check_c(co.Model(g, b"", [[x]]), "host", None, atol=1e-5)


def test_prelu_per_channel_and_shared_slope(tmp_path):
    slope = np.array([0.25, -0.5, 1.5], np.float32).reshape(3, 1, 1)
    g = load(tmp_path, [helper.make_node("PRelu", ["x", "slope"], ["y0"]),
                        helper.make_node("PRelu", ["x", "one"], ["y1"])],
             {"slope": slope, "one": np.array([0.1], np.float32)}, [SHAPE, SHAPE])
    assert sorted(op.kind for op in g.ops) == ["LEAKY_RELU", "PRELU"], [o.kind for o in g.ops]
    check(g, lambda x: [np.where(x >= 0, x, x * slope), np.where(x >= 0, x, x * np.float32(0.1))])


@pytest.mark.parametrize("opset", [13, 18])
def test_reduce_sum_and_max(tmp_path, opset):
    axes = np.array([2, 3], np.int64)
    sum_node = helper.make_node("ReduceSum", ["x", "axes"], ["y0"], keepdims=1)
    max_node = (helper.make_node("ReduceMax", ["x", "axes"], ["y1"], keepdims=0) if opset >= 18
                else helper.make_node("ReduceMax", ["x"], ["y1"], axes=[2, 3], keepdims=0))
    g = load(tmp_path, [sum_node, max_node], {"axes": axes}, [(1, 3, 1, 1), (1, 3)], opset)
    assert {"SUM", "REDUCE_MAX"} <= {op.kind for op in g.ops}, [o.kind for o in g.ops]
    check(g, lambda x: [x.sum(axis=(2, 3), keepdims=True), x.max(axis=(2, 3))])


def test_prelu_after_conv_takes_the_channel_slope(tmp_path):
    """After a Conv the value is stored NHWC: the slope must follow the channel axis."""
    w = np.random.default_rng(1).standard_normal((3, 3, 1, 1)).astype(np.float32)
    slope = np.array([0.25, -0.5, 1.5], np.float32).reshape(3, 1, 1)
    g = load(tmp_path, [helper.make_node("Conv", ["x", "w"], ["c"]),
                        helper.make_node("PRelu", ["c", "slope"], ["y0"])],
             {"w": w, "slope": slope}, [SHAPE])
    assert "PRELU" in {op.kind for op in g.ops}, [o.kind for o in g.ops]

    def want(x):
        c = np.einsum("oi,nihw->nohw", w[:, :, 0, 0], x)
        return [np.where(c >= 0, c, c * slope)]
    check(g, want)


@pytest.mark.parametrize("keepdims", [0, 1])
def test_argmax_and_argmin_match_onnxruntime(tmp_path, keepdims):
    """ArgMax / ArgMin (axis 1 and -1, keepdims or not) after a conv, so the input is stored
    NHWC: the same indices as onnxruntime (int64 there, int32 here), reference and host C."""
    ort = pytest.importorskip("onnxruntime")
    w = np.random.default_rng(5).standard_normal((6, 3, 1, 1)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]),
             helper.make_node("ArgMax", ["c"], ["y0"], axis=1, keepdims=keepdims),
             helper.make_node("ArgMin", ["c"], ["y1"], axis=-1, keepdims=keepdims)]
    shapes = [(1, 1, 4, 5), (1, 6, 4, 1)] if keepdims else [(1, 4, 5), (1, 6, 4)]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", F, list(SHAPE))],
        [helper.make_tensor_value_info(f"y{i}", TensorProto.INT64, s)
         for i, s in enumerate(shapes)], [numpy_helper.from_array(w, "w")])
    path = tmp_path / "m.onnx"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8                              # what this onnxruntime reads
    onnx.save(model, str(path))
    from toolchain.frontends.onnx import load_onnx
    g = load_onnx(str(path), keep_nchw_io=True)
    assert {"ARG_MAX", "ARG_MIN"} <= {op.kind for op in g.ops}, [o.kind for o in g.ops]
    x = np.random.default_rng(3).standard_normal(SHAPE).astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})
    for k, (w_, got) in enumerate(zip(want, run_graph(g, [x]))):
        got = np.asarray(got)
        assert got.shape == w_.shape, (k, got.shape, w_.shape)
        bad = np.flatnonzero(got.ravel() != w_.ravel())
        assert not bad.size, f"output {k}: " + ", ".join(
            f"[{i}] {got.ravel()[i]} != {w_.ravel()[i]}" for i in bad)
    co.check_c(co.Model(g, b"", [[x]]), "host", None, atol=0)


def test_argmax_last_index_is_refused(tmp_path):
    from toolchain.errors import ModelError
    with pytest.raises(ModelError, match="select_last_index"):
        load(tmp_path, [helper.make_node("ArgMax", ["x"], ["y0"], axis=1,
                                         select_last_index=1)], {}, [(1, 1, 4, 5)])
