"""FILL, BROADCAST_TO and BROADCAST_ARGS: converter models (tf.broadcast_to of a computed
tensor to rank 3 and 4, tf.fill of a computed value; float32 and int8) run the same in the
reference, TFLite Micro, generated C on the host and under QEMU, and the written file runs in
LiteRT's default resolver; int32 and int16 one-op graphs equal TFLM and host C; a FILL of
constants and a BROADCAST_ARGS of constant shapes fold to constants (TFLM computes the same
values); torch's expand and ONNX Expand become BROADCAST_TO and equal their runtimes."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from toolchain.ir import Graph, GraphError, Op
from toolchain.ops.interpreter import run_graph
from toolchain.passes.fold_constants import fold_constants
from toolchain.verify.executors import get_executor

SHAPES = [(1, 4, 5, 3), (2, 6)]


def fill_broadcast(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    row = tf.reduce_mean(a, axis=[1], keepdims=True)                # [1, 1, 5, 3]
    return [tf.broadcast_to(row, [2, 4, 5, 3]) + a,
            tf.broadcast_to(tf.reduce_max(b, axis=0), [3, 2, 6]),
            tf.fill([3, 5], tf.reduce_max(a)),
            tf.fill([2, 2, 4], tf.reduce_sum(b) * 0.1) * 1.5]


@pytest.fixture(scope="module", params=["float32", "int8"])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    return co.build(tf.function(fill_broadcast), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_fill_and_broadcast_to(model):
    assert {"FILL", "BROADCAST_TO"} <= co.kinds(model), co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def test_written_file_runs_in_litert_default_resolver(model, pool):
    for k, want, got in co.litert_default_outputs(model, pool):
        if k == 0 and want.dtype == np.int8:
            continue        # LiteRT's int8 MEAN rounds unlike TFLM's (fitml follows TFLM)
        co.assert_same(want, got, f"litert default output {k}", 1e-6)


def check_int32(g: Graph, compiled: Graph | None = None):
    """Reference == TFLM on `g`, host C of `compiled` (default `g`) == the reference."""
    x = oplab.random_inputs(g, np.random.default_rng(5))
    ref, tflm = oplab.run_reference_and_tflm(g, x)
    for k, want in enumerate(ref):
        oplab.assert_exact(want, np.asarray(tflm[k]).reshape(want.shape), f"tflm output {k}")
    co.check_c(co.Model(compiled or g, b"", [x]), "host", None, atol=0)
    return ref


@pytest.mark.parametrize("dtype", ["int32", "int16"])
def test_integer_broadcast_to_and_fill_equal_tflm_and_host_c(dtype):
    """BROADCAST_TO of an input; an int32 FILL of a constant, a graph output (not folded)."""
    x = oplab.act("x", (3, 1), dtype)
    b_ins = [x, oplab.const("shape", np.array([2, 3, 4], np.int32))]
    f_ins = [oplab.const("dims", np.array([4, 3], np.int32)),
             oplab.const("v", np.array(-70000, np.int32))]
    outs = [oplab.out_like("BROADCAST_TO", b_ins, {}, name="b"),
            oplab.out_like("FILL", f_ins, {}, name="f")]
    ops = [Op("BROADCAST_TO", ["x", "shape"], ["b"], {}), Op("FILL", ["dims", "v"], ["f"], {})]
    g = Graph.build([*b_ins, *f_ins, *outs], ops, ["x"], ["b", "f"]).validate()
    ref = check_int32(g)
    oplab.assert_exact(np.full((4, 3), -70000, np.int32), ref[1], "fill")
    assert ref[0].shape == (2, 3, 4)


def max_of(kind: str, consts, shape, dtype: str) -> Graph:
    """MAXIMUM(x, KIND(constants)): a graph whose KIND folds away."""
    made = oplab.out_like(kind, consts, {}, name="made")
    x, out = oplab.act("x", shape, dtype), oplab.act("out", shape, dtype)
    ops = [Op(kind, [c.name for c in consts], ["made"], {}),
           Op("MAXIMUM", ["x", "made"], ["out"], {})]
    return Graph.build([*consts, made, x, out], ops, ["x"], ["out"]).validate()


def test_constant_fill_and_broadcast_args_fold_and_equal_tflm():
    fill = max_of("FILL", [oplab.const("dims", np.array([2, 3], np.int32)),
                           oplab.const("value", np.array(2.5, np.float32))], (2, 3), "float32")
    args = max_of("BROADCAST_ARGS", [oplab.const("s1", np.array([4, 1, 3], np.int32)),
                                     oplab.const("s2", np.array([5, 1], np.int32))],
                  (3,), "int32")
    for g, kind, value in ((fill, "FILL", np.full((2, 3), 2.5, np.float32)),
                           (args, "BROADCAST_ARGS", np.array([4, 5, 3], np.int32))):
        folded = fold_constants(g)
        assert kind not in {op.kind for op in folded.ops}
        oplab.assert_exact(value, folded.tensors["made"].data, kind)
        check_int32(g, folded)


@pytest.mark.parametrize("kind, ins", [
    ("BROADCAST_TO", [oplab.act("x", (2, 3), "float32"), oplab.const("s", np.array([4, 3]))]),
    ("BROADCAST_TO", [oplab.act("x", (2, 3), "float32"), oplab.const("s", np.array([3]))]),
    ("FILL", [oplab.const("d", np.array([2])), oplab.act("v", (1,), "float32")]),
    ("FILL", [oplab.act("d", (2,), "int32"), oplab.act("v", (), "float32")]),
    ("BROADCAST_ARGS", [oplab.const("a", np.array([2, 3])), oplab.const("b", np.array([4]))]),
])
def test_bad_operands_are_refused(kind, ins):
    with pytest.raises(GraphError, match=f"{kind}: "):
        oplab.out_like(kind, ins, {})


def test_torch_expand_becomes_broadcast_to_and_equals_torch():
    torch = pytest.importorskip("torch")
    from toolchain.frontends.torch_export import load_torch
    from torch_modules import nhwc, torch_outputs

    class Expand(torch.nn.Module):
        def forward(self, x, row):
            pooled = x.mean(dim=(2, 3), keepdim=True)                    # [1, 3, 1, 1]
            return x + pooled.expand(1, 3, 4, 5), row.expand(2, 4, 6) * 2.0

    gen = torch.Generator().manual_seed(7)
    x, row = torch.randn(1, 3, 4, 5, generator=gen), torch.randn(1, 6, generator=gen)
    g = load_torch(Expand(), (x, row))
    assert "BROADCAST_TO" in {op.kind for op in g.ops}, [op.kind for op in g.ops]
    want = torch_outputs(Expand(), (x, row))
    got = run_graph(g, [nhwc(x), row.numpy()])
    for k, w in enumerate(want):
        oplab.assert_close(w, np.asarray(got[k]).reshape(w.shape), 1e-6, f"torch output {k}")


def test_onnx_expand_becomes_broadcast_to_and_equals_onnxruntime_and_litert():
    pytest.importorskip("onnxruntime")
    from onnx import helper
    from onnx_cases import check_model, kinds, make

    nodes = [helper.make_node("Expand", ["x", "s4"], ["wide"]),
             helper.make_node("Expand", ["v", "s3"], ["rows"])]
    inits = dict(s4=np.array([1, 3, 4, 5], np.int64), s3=np.array([2, 3, 1], np.int64))
    model = make(nodes, {"x": (1, 3, 1, 5), "v": (4,)}, ["wide", "rows"], inits)
    rng = np.random.default_rng(8)
    x = [rng.standard_normal((1, 3, 1, 5)).astype(np.float32),
         rng.standard_normal(4).astype(np.float32)]
    assert "BROADCAST_TO" in kinds(check_model(model, x))


def test_a_graph_without_inputs_builds_warning_free_on_the_host():
    """A FILL of constants left unfolded: model_input() has no input to return, and its unused
    arena parameter must not break the -Werror build."""
    dims = oplab.const("dims", np.array([2, 3], np.int32))
    value = oplab.const("value", np.array(1.5, np.float32))
    g = oplab.one_op("FILL", [dims, value], {}, oplab.out_like("FILL", [dims, value], {}))
    assert not g.inputs
    got = get_executor("host")(g, []).outputs[0]
    oplab.assert_exact(np.full((2, 3), 1.5, np.float32), np.asarray(got).reshape(2, 3), "FILL")
