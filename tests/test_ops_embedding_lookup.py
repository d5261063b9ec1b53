"""EMBEDDING_LOOKUP: TF's converter emits it for a function declared
`experimental_implements="embedding_matmul"` (its composite-function pass; tf.nn.embedding_lookup
and Keras Embedding become GATHER). On such models (two tables of rank 3 and 2, float32 and int8
PTQ) the reference equals TFLite Micro bit for bit, on the converter's file and on fitml's, and
generated C equals it on the host and under QEMU. The hybrid lookup (int8 table, float32 output)
is built with fitml's writer from weights: the converter's dynamic-range models give the table
one scale per row, which TFLM ignores (it dequantizes with the first scale), so fitml refuses
them in one line. Lookups outside the table raise in the reference and fail the C kernel."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
import oplab
from cli_util import fitml, one_clear_line
from toolchain.backends.tflite import write_tflite
from toolchain.errors import UsageError
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import GraphError
from toolchain.ops.interpreter import run_graph
from toolchain.verify.cexec import ExecutionError
from toolchain.verify.executors import get_executor

TABLES = [np.random.default_rng(1).standard_normal((10, 3, 2)).astype(np.float32),
          np.random.default_rng(2).uniform(-1, 3, (24, 8)).astype(np.float32)]
LOOKUPS = [(4,), (6,)]


def convert(mode: str, tables=TABLES) -> bytes:
    """Two lookups (the second followed by a RELU) from TF's converter: float32, int8 PTQ or
    "dynamic" (dynamic-range quantization: tables of 1024+ values get per-row int8 scales)."""
    tf = pytest.importorskip("tensorflow")

    @tf.function(experimental_implements="embedding_matmul")
    def lookup(table, ids):
        return tf.gather(table, ids)

    module = tf.Module()
    module.f = tf.function(lambda a, b: [lookup(tf.constant(tables[0]), a),
                                         tf.nn.relu(lookup(tf.constant(tables[1]), b))],
                           input_signature=[tf.TensorSpec(s, tf.int32) for s in LOOKUPS])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()],
                                                           module)
    if mode != "float32":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "int8":
        rng = np.random.default_rng(0)

        def representative():
            for _ in range(8):      # the calibrator's input order is its own: valid for both
                yield [rng.integers(0, len(TABLES[0]), s).astype(np.int32) for s in LOOKUPS]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_output_type = tf.int8
    return conv.convert()


def lookups(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, len(t), s).astype(np.int32) for t, s in zip(TABLES, LOOKUPS)]


@pytest.fixture(scope="module", params=("float32", "int8"))
def model(request):
    blob = convert(request.param)
    graph = load_tflite(blob)
    edges = [np.array([9, 0, 0, 9], np.int32), np.array([23, 0, 1, 22, 23, 5], np.int32)]
    order = [["a", "b"].index(n.split("_")[-1][0]) for n in graph.inputs]   # serving_default_a:0
    cases = [[case[k] for k in order] for case in (lookups(0), lookups(1), edges)]
    return co.Model(graph, blob, cases)


def test_converter_emits_embedding_lookup(model):
    ops = [op for op in model.graph.ops if op.kind == "EMBEDDING_LOOKUP"]
    assert len(ops) == 2, co.kinds(model)
    want = "int8" if model.graph.tensors[model.graph.outputs[0]].dtype == "int8" else "float32"
    assert {model.graph.tensors[op.inputs[1]].dtype for op in ops} == {want}


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def test_written_file_runs_in_litert_default_resolver(model, pool):
    for k, want, got in co.litert_default_outputs(model, pool):
        oplab.assert_exact(want, got, f"output {k}")


def test_bad_lookups_are_errors(model):
    bad = [np.array([3, 10, 0, 1], np.int32) if x.size == 4 else x for x in model.cases[0]]
    with pytest.raises(UsageError, match="EMBEDDING_LOOKUP .*lookup 10 outside \\[0, 10\\)"):
        run_graph(model.graph, bad)
    with pytest.raises(ExecutionError, match="\\(EMBEDDING_LOOKUP\\) failed .*FITML_ERR_ARGUMENT"):
        get_executor("host")(model.graph, bad)


@pytest.fixture(scope="module")
def hybrid():
    """int8 table (one scale, zero point 0) looked up into float32, as fitml writes it."""
    table = np.random.default_rng(5).integers(-127, 128, (50, 2, 8)).astype(np.int8)
    t = oplab.const("table", table, scale=np.float32(0.0173))
    i = oplab.act("ids", (7,), "int32")
    return oplab.one_op("EMBEDDING_LOOKUP", [i, t], dict(output_dtype="float32"),
                        oplab.act("out", (7, 2, 8), "float32"))


def test_hybrid_equals_tflm_litert_host_and_qemu(hybrid, pool):
    from toolchain.verify.litert import run_litert_default
    from toolchain.verify.tflm import run_tflm

    x = [np.array([49, 0, 7, 7, 13, 2, 48], np.int32)]
    want = run_graph(hybrid, x)[0]
    blob = write_tflite(hybrid)
    runs = {"tflm": run_tflm(blob, x)[0],
            "litert default": pool.submit(run_litert_default, blob, x).result()[0],
            "host": get_executor("host")(hybrid, x).outputs[0],
            "qemu": get_executor("qemu")(hybrid, x, target="cortex-m0").outputs[0]}
    for label, got in runs.items():     # float32 bit patterns: q * scale in float32
        got = np.asarray(got, np.float32).reshape(want.shape)
        oplab.assert_exact(want.view(np.int32), got.view(np.int32), label)


def test_per_row_hybrid_table_is_refused_in_one_line(tmp_path):
    path = tmp_path / "dynamic.tflite"
    big = np.random.default_rng(3).standard_normal((100, 4, 8)).astype(np.float32)
    path.write_bytes(convert("dynamic", [big, big[:, 0]]))
    proc = fitml("inspect", path)
    assert proc.returncode == 2, proc.stderr
    line = one_clear_line(proc)
    assert "EMBEDDING_LOOKUP" in line and "one scale" in line and "dynamic.tflite" in line


@pytest.mark.parametrize("ids, table, out, needle", [
    (("i", (2, 2), "int32"), ("t", (5, 3), "float32"), "float32", "must be 1-D int32"),
    (("i", (2,), "int32"), ("t", (5,), "float32"), "float32", "rank 1 is not supported"),
    (("i", (2,), "int32"), ("t", (5, 3), "int16"), "int16", "int16 table"),
    (("i", (2,), "int32"), ("t", (5, 3), "float32"), "int8", "gives float32, not int8"),
])
def test_what_tflm_refuses_is_refused(ids, table, out, needle):
    i, t = oplab.act(*ids), oplab.act(*table)
    with pytest.raises(GraphError, match=needle):
        oplab.one_op("EMBEDDING_LOOKUP", [i, t], dict(output_dtype=out),
                     oplab.act("out", (2, 3), out))


def test_constant_lookup_outside_the_table_is_refused():
    t = oplab.const("t", np.zeros((5, 3), np.float32))
    with pytest.raises(GraphError, match="constant lookup 'i' leaves \\[0, 5\\)"):
        oplab.one_op("EMBEDDING_LOOKUP", [oplab.const("i", np.array([0, 5], np.int32)), t], {},
                     oplab.act("out", (2, 3), "float32"))
