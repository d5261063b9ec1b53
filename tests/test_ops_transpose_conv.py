"""TRANSPOSE_CONV: Keras Conv2DTranspose layers converted by TensorFlow's converter (float32,
int8, 16x8; strides 1 and 2, SAME and VALID, with and without bias, fused RELU / RELU6) run
bit-exact in the reference, TFLite Micro, generated C on the host and under QEMU; an int8
/ 16x8 fused clamp that bites matches TFLM; the written .tflite runs in LiteRT's default
resolver; a malformed stride is one clean line, exit 2 (frontends:
test_ops_transpose_conv_frontends.py)."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import converted_ops as co
import oplab
from cli_util import fitml, one_clear_line
from test_litert_default_resolver import invoke_default
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import GraphError

# name: (filters, kernel, strides, padding, use_bias, activation, input shape)
CASES = {
    "s2_same_bias_relu": (6, 3, 2, "same", True, "relu", (1, 5, 5, 4)),
    "s1_valid_nobias": (5, 3, 1, "valid", False, None, (1, 5, 5, 4)),
    "s21_valid_rect_bias": (3, (2, 3), (2, 1), "valid", True, None, (1, 4, 6, 3)),
    "s2_same_k4_relu6_batch2": (4, 4, 2, "same", False, "relu6", (2, 3, 5, 2)),
}
PARAMS = [(c, m) for c in CASES for m in co.MODES]


def keras_layer(case: str):
    """The built Conv2DTranspose layer of `case` with seeded weights."""
    import tensorflow as tf  # lazy: only the converter fixtures need it

    filters, kernel, strides, padding, bias, act, shape = CASES[case]
    layer = tf.keras.layers.Conv2DTranspose(filters, kernel, strides=strides, padding=padding,
                                            use_bias=bias, activation=act)
    layer.build(shape)
    rng = np.random.default_rng(len(case))
    layer.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32)
                       for w in layer.get_weights()])
    return layer


@pytest.fixture(scope="module", params=PARAMS, ids=[f"{c}-{m}" for c, m in PARAMS])
def model(request, tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    case, mode = request.param
    layer = keras_layer(case)
    return co.build(tf.function(lambda x: layer(x)), [CASES[case][-1]], mode, tmp_path_factory)


def test_converter_emits_transpose_conv(model):
    ops = [op for op in model.graph.ops if op.kind == "TRANSPOSE_CONV"]
    assert len(ops) == 1, co.kinds(model)


def test_reference_equals_tflm(model):
    co.check_tflm(model, atol=0)


@pytest.mark.parametrize("executor,target", co.EXECUTORS)
def test_generated_c_equals_reference(model, executor, target):
    co.check_c(model, executor, target, atol=0)


def test_fused_activations_are_read():
    """The converter fuses the RELU / RELU6 of these layers (float32 at least)."""
    tf = pytest.importorskip("tensorflow")
    for case, want in (("s2_same_bias_relu", "RELU"), ("s2_same_k4_relu6_batch2", "RELU6")):
        blob = co.convert(tf.function(keras_layer(case)), [CASES[case][-1]], "float32")
        (op,) = load_tflite(blob).ops
        assert (op.kind, op.attr("activation")) == ("TRANSPOSE_CONV", want)


def one_op(dtype: str, activation: str, zp_out: int, bias: bool = True):
    """A 1x4x4x3 -> 1x8x8x5 SAME stride-2 3x3 TRANSPOSE_CONV graph with seeded weights."""
    rng = np.random.default_rng(7)
    scale = {"int8": 0.05, "int16": 1 / 2048}[dtype]
    x = oplab.act("x", (1, 4, 4, 3), dtype, scale, 3 if dtype == "int8" else 0)
    w = oplab.const("w", rng.integers(-127, 128, (5, 3, 3, 3)).astype(np.int8),
                    scale=rng.uniform(0.005, 0.02, 5).astype(np.float32), axis=0)
    shape = oplab.const("shape", np.array([1, 8, 8, 5], np.int32))
    bias_dtype = np.int32 if dtype == "int8" else np.int64
    b = oplab.const("b", rng.integers(-3000, 3000, 5).astype(bias_dtype)) if bias else None
    attrs = dict(padding="SAME", stride=(2, 2), activation=activation)
    ins = [shape, w, x] + ([b] if bias else [])
    out_scale = {"int8": 0.2, "int16": 1 / 128}[dtype]
    out = oplab.act("out", (1, 8, 8, 5), dtype, out_scale, zp_out)
    return oplab.one_op("TRANSPOSE_CONV", ins, attrs, out)


@pytest.mark.parametrize("dtype,activation,zp_out", [("int8", "RELU", 10), ("int8", "RELU6", -5),
                                                     ("int16", "RELU", 0)])
def test_quantized_fused_clamp_bites_and_matches_tflm(dtype, activation, zp_out):
    graph = one_op(dtype, activation, zp_out)
    ref = oplab.check_tflm(graph, np.random.default_rng(3))[0]
    lo = zp_out if activation != "NONE" else np.iinfo(dtype).min
    assert (ref == lo).sum() > 10, "the clamp never bites: the test could not fail"
    plain = one_op(dtype, "NONE", zp_out)
    assert (oplab.check_tflm(plain, np.random.default_rng(3))[0] < lo).any()


def test_written_tflite_runs_in_litert_default_resolver():
    """fitml's written file (from the one-op graphs and a float one) loads in LiteRT's
    default resolver and computes what the reference does."""
    rng = np.random.default_rng(5)
    x = oplab.act("x", (1, 3, 3, 2), "float32")
    w = oplab.const("w", rng.standard_normal((4, 3, 3, 2)).astype(np.float32))
    shape = oplab.const("shape", np.array([1, 6, 6, 4], np.int32))
    out = oplab.act("out", (1, 6, 6, 4), "float32")
    graphs = {"float32": oplab.one_op("TRANSPOSE_CONV", [shape, w, x],
                                      dict(padding="SAME", stride=(2, 2)), out),
              "int8": one_op("int8", "RELU", -128), "int16": one_op("int16", "NONE", 0, False)}
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        for label, graph in graphs.items():
            invoke_default(pool, graph, write_tflite(graph), f"TRANSPOSE_CONV {label}")


def test_inconsistent_output_shape_is_refused():
    x = oplab.act("x", (1, 4, 4, 3), "float32")
    w = oplab.const("w", np.ones((2, 3, 3, 3), np.float32))
    shape = oplab.const("shape", np.array([1, 11, 8, 2], np.int32))
    with pytest.raises(GraphError, match="TRANSPOSE_CONV: output_shape"):
        oplab.one_op("TRANSPOSE_CONV", [shape, w, x], dict(padding="SAME", stride=(2, 2)),
                     oplab.act("out", (1, 11, 8, 2), "float32"))


def test_malformed_stride_is_one_clean_line_exit_2(tmp_path):
    tf = pytest.importorskip("tensorflow")
    layer = keras_layer("s1_valid_nobias")
    blob = co.convert(tf.function(lambda x: layer(x)), [CASES["s1_valid_nobias"][-1]],
                      "float32")
    model = schema.ModelT.InitFromPackedBuf(blob, 0)
    model.subgraphs[0].operators[0].builtinOptions.strideW = 0
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "bad_stride.tflite"
    path.write_bytes(bytes(builder.Output()))
    proc = fitml("inspect", path)
    assert proc.returncode == 2, proc.stderr
    line = one_clear_line(proc)
    assert "bad_stride.tflite" in line and "TRANSPOSE_CONV" in line and "stride" in line, line
