"""GATHER_ND: TF's converter (tf.gather_nd with constant indices of depth 1, 2 and 3 on rank-3
and rank-4 inputs, and with runtime indices; float32 and int8 PTQ) runs the same in the
reference, TFLite Micro, generated C on the host and under QEMU, bit for bit; int32 params
(LiteRT only) equal LiteRT. Out-of-range indices: constant ones are refused with one line when
the model loads, runtime ones raise in the reference and fail the C kernel."""
from __future__ import annotations

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import converted_ops as co
import oplab
from cli_util import fitml, one_clear_line
from tf_convert import check_model, tf
from toolchain.backends.tflite import write_tflite
from toolchain.errors import UsageError
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.cexec import ExecutionError
from toolchain.verify.executors import get_executor

SHAPES = [(2, 3, 4), (1, 4, 4, 6)]
INDICES = [np.array([[0, 1], [1, 2], [1, 0]], np.int32),           # depth 2: rows of 4
           np.array([[[1], [0]]], np.int32),                       # depth 1: whole slabs
           np.array([[1, 2, 3], [0, 0, 0], [1, 1, 2]], np.int32),  # depth 3: single elements
           np.array([[[0, 3], [0, 1]], [[0, 0], [0, 2]]], np.int32)]  # rank-4 input, depth 2


def gather_nd_model(a, b):
    import tensorflow as tf  # lazy: only the converter fixtures need it
    return [tf.gather_nd(a, i) for i in INDICES[:3]] + [tf.gather_nd(b, INDICES[3])]


@pytest.fixture(scope="module", params=("float32", "int8"))
def model(request, tmp_path_factory):
    tf_ = pytest.importorskip("tensorflow")
    return co.build(tf_.function(gather_nd_model), SHAPES, request.param, tmp_path_factory)


def test_converter_emits_gather_nd(model):
    assert [op.kind for op in model.graph.ops].count("GATHER_ND") == 4, co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def test_written_file_runs_in_litert_default_resolver(model, pool):
    for k, want, got in co.litert_default_outputs(model, pool):
        oplab.assert_close(want, got, 1e-5, f"output {k}")


@pytest.fixture(scope="module")
def runtime_indices():
    """A float32 (3, 4, 5) table read with runtime int32 index pairs (the model's input)."""
    table = np.random.default_rng(8).standard_normal((3, 4, 5)).astype(np.float32)
    t = tf()
    module = t.Module()
    module.f = t.function(lambda i: t.gather_nd(table, i),
                          input_signature=[t.TensorSpec((4, 2), t.int32)])
    conv = t.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()],
                                                           module)
    return conv.convert()


def test_runtime_indices_equal_tflm_and_bad_ones_are_errors(runtime_indices):
    idx = np.array([[2, 3], [0, 0], [1, 2], [2, 3]], np.int32)
    check_model(runtime_indices, None, inputs=[idx], executors=("host", "qemu"))
    graph = load_tflite(runtime_indices)
    bad = np.array([[2, 3], [0, 4], [0, 0], [1, 1]], np.int32)   # [0, 4]: inside flat, not dim
    with pytest.raises(UsageError, match="GATHER_ND .*index \\[0, 4\\] outside .*\\[3, 4\\]"):
        run_graph(graph, [bad])
    with pytest.raises(ExecutionError, match="op 0 \\(GATHER_ND\\) failed .*FITML_ERR_ARGUMENT"):
        get_executor("host")(graph, [bad])


def with_constant_indices(blob: bytes, values) -> bytes:
    """The model with the first GATHER_ND's constant indices replaced (same shape)."""
    m = schema.ModelT.InitFromPackedBuf(blob, 0)
    sub = m.subgraphs[0]
    op = next(o for o in sub.operators
              if m.operatorCodes[o.opcodeIndex].builtinCode == schema.BuiltinOperator.GATHER_ND)
    m.buffers[sub.tensors[op.inputs[1]].buffer].data = np.frombuffer(
        np.asarray(values, "<i4").tobytes(), np.uint8)
    builder = flatbuffers.Builder(0)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.parametrize("model", ["float32"], indirect=True)
def test_constant_indices_out_of_range_are_refused_in_one_line(model, tmp_path):
    bad = INDICES[0].copy()
    bad[1] = [1, 3]
    path = tmp_path / "bad_indices.tflite"
    path.write_bytes(with_constant_indices(model.blob, bad))
    proc = fitml("inspect", path)
    assert proc.returncode == 2, proc.stderr
    line = one_clear_line(proc)
    assert "GATHER_ND" in line and "[1, 3]" in line and "bad_indices.tflite" in line, line


def test_int32_params_equal_litert_and_host_c():
    from toolchain.verify.litert import run_litert

    p, idx = oplab.act("p", (3, 4, 5), "int32"), oplab.act("i", (2, 2, 2), "int32")
    g = oplab.one_op("GATHER_ND", [p, idx], {}, oplab.out_like("GATHER_ND", [p, idx], {}))
    x = [np.arange(60, dtype=np.int32).reshape(3, 4, 5) * 7 - 99,
         np.array([[[2, 3], [0, 0]], [[1, 2], [2, 0]]], np.int32)]
    want = run_graph(g, x)[0]
    oplab.assert_exact(want, np.asarray(run_litert(write_tflite(g), x)[0]).reshape(want.shape),
                       "litert")
    oplab.assert_exact(want, get_executor("host")(g, x).outputs[0], "host")


@pytest.mark.parametrize("p, idx, needle", [
    (("p", (2, 3), "int16"), [[0, 1]], "int16 params"),
    (("p", (2, 3), "int8"), [[0, 1, 0]], "index depth 3"),
    (("p", (2, 3), "int8"), [[1, -1]], "hold \\[1, -1\\], outside"),
    (("p", (2, 3), "int8"), [[2]], "hold \\[2\\], outside"),
])
def test_what_tflm_refuses_is_refused(p, idx, needle):
    x, i = oplab.act(*p), oplab.const("i", np.array(idx, np.int32))
    with pytest.raises(GraphError, match=needle):
        oplab.one_op("GATHER_ND", [x, i], {}, oplab.act("out", (1,), p[2]))
