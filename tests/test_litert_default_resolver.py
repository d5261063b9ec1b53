"""Every .tflite fitml writes loads and runs in LiteRT's DEFAULT resolver (what a phone app
uses: optimized kernels, XNNPACK), not only in the reference one (issue 15): for every .tflite
and .onnx under ../shared/models (as read, and the float ones quantized to int8 and to 16x8)
and for bias-less CONV_2D graphs, whose written file gets a zero bias (passes/zero_bias.py)
because LiteRT's conv.cc requires one. Float outputs agree with fitml's reference within the
project's float tolerance; integer ones within a few steps (optimized kernels round
differently), and the zero bias leaves TFLM's answer bit-exact."""
from __future__ import annotations


import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from conftest import SHARED_MODELS
from writer_cases import conv_graph
from toolchain.api import load, quantize
from toolchain.backends.tflite import write_tflite
from toolchain.ir import Node
from toolchain.ops.hybrid import is_hybrid
from toolchain.ops.interpreter import run_graph
from toolchain.verify.ladder import FLOAT_TOLERANCE
from toolchain.verify.litert import run_litert_default

MODELS = sorted(str(p.relative_to(SHARED_MODELS)) for p in SHARED_MODELS.rglob("*")
                if p.suffix in (".tflite", ".onnx"))
NOT_QUANTIZED = ("UNIDIRECTIONAL_SEQUENCE_LSTM",)    # fitml's quantizer has no int8 LSTM
INT_SLACK = 12      # optimized int8 kernels vs the reference (MobileNetV2 at 224: 9 steps)


def invoke_default(pool, graph, written: bytes, label: str, seed: int = 0):
    """Run `written` in LiteRT's default resolver; compare with the reference of `graph`."""
    inputs = oplab.random_inputs(graph, np.random.default_rng(seed))
    got = pool.submit(run_litert_default, written, inputs).result()
    want = run_graph(graph, inputs)
    assert len(got) == len(want), label
    for i, (a, b) in enumerate(zip(want, got)):
        b = np.asarray(b)
        assert b.dtype == a.dtype and b.size == a.size, (label, i, b.dtype, b.shape)
        diff = np.abs(a.astype(np.float64) - b.reshape(a.shape).astype(np.float64)).max()
        span = max(float(np.ptp(a)), float(np.abs(a).max()), 1e-6)
        limit = FLOAT_TOLERANCE * span if a.dtype.kind == "f" else INT_SLACK
        assert diff <= limit or "hybrid" in label, f"{label} output {i}: max |diff| {diff}"


def calibration(graph, count: int = 4):
    rng = np.random.default_rng(9)
    return [oplab.random_inputs(graph, rng) for _ in range(count)]


@pytest.mark.parametrize("rel", MODELS)
def test_written_shared_model_runs_in_default_resolver(rel, pool):
    graph = load(str(SHARED_MODELS / rel))
    is_float = all(graph.tensors[n].dtype == "float32" for n in graph.inputs)
    hybrid = any(is_hybrid(Node.of(graph, op)) for op in graph.ops)
    # LiteRT's hybrid kernels quantize activations their own way: only run, do not compare
    invoke_default(pool, graph, write_tflite(graph), rel + (" hybrid" if hybrid else ""))
    if is_float and not any(op.kind in NOT_QUANTIZED for op in graph.ops):
        for acts in ("int8", "int16"):
            q = quantize(graph, calibration(graph), activations=acts, progress=False)
            invoke_default(pool, q, write_tflite(q), f"{rel} quantized {acts}")


CASES = {"int8": dict(), "float32": dict(dtype="float32"), "int4": dict(w_dtype="int4")}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("bias", ["absent", "none"])
def test_biasless_conv_gets_a_zero_bias(case, bias, pool):
    graph = conv_graph(np.random.default_rng(3), bias=bias, **CASES[case])
    if case == "float32":       # conv_graph's float graphs carry a bias: drop it
        op = graph.ops[0]
        graph = oplab.one_op("CONV_2D", [graph.tensors[n] for n in op.inputs[:2]], op.attrs,
                             graph.tensors[op.outputs[0]])
    written = write_tflite(graph)
    model = schema.ModelT.InitFromPackedBuf(written, 0)
    sub = model.subgraphs[0]
    bias_index = sub.operators[0].inputs[2]
    bias = sub.tensors[bias_index]
    want = {"float32": schema.TensorType.FLOAT32}.get(case, schema.TensorType.INT32)
    assert bias.type == want and list(bias.shape) == [4]
    assert not np.any(np.frombuffer(bytes(model.buffers[bias.buffer].data), np.uint8))
    invoke_default(pool, graph, written, f"conv {case} bias {bias}")
    oplab.check_tflm(graph, np.random.default_rng(4))    # the zero bias changes nothing


def test_16x8_biasless_conv_gets_an_int64_zero_bias():
    from toolchain.verify.tflm import run_tflm
    rng = np.random.default_rng(6)
    x = oplab.act("x", (1, 6, 6, 3), "int16", scale=1 / 2048)
    w = oplab.const("w", rng.integers(-127, 128, (5, 3, 3, 3)).astype(np.int8),
                    scale=rng.uniform(0.002, 0.02, 5).astype(np.float32), axis=0)
    attrs = dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE")
    graph = oplab.one_op("CONV_2D", [x, w], attrs,
                         oplab.out_like("CONV_2D", [x, w], attrs, scale=1 / 512))
    written = write_tflite(graph)
    sub = schema.ModelT.InitFromPackedBuf(written, 0).subgraphs[0]
    assert sub.tensors[sub.operators[0].inputs[2]].type == schema.TensorType.INT64
    inputs = oplab.random_inputs(graph, rng)
    oplab.assert_exact(run_graph(graph, inputs)[0],
                       np.asarray(run_tflm(written, inputs)[0]).reshape(graph.tensors["out"].shape))


BIAS_TYPES = {"float32": schema.TensorType.FLOAT32, "int8": schema.TensorType.INT32,
              "int16": schema.TensorType.INT64}


def biasless(kind: str, dtype: str, rng) -> object:
    """A DEPTHWISE_CONV_2D (two inputs) or FULLY_CONNECTED (absent bias) graph."""
    scale = {"int8": 0.05, "int16": 1 / 4096}.get(dtype)
    quantized = dtype != "float32"
    if kind == "DEPTHWISE_CONV_2D":
        x, w_shape, axis = oplab.act("x", (1, 6, 7, 4), dtype, scale=scale), (1, 3, 3, 4), 3
        attrs = dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="RELU",
                     depth_multiplier=1)
    else:
        x, w_shape, axis = oplab.act("x", (1, 16), dtype, scale=scale), (5, 16), 0
        attrs = dict(activation="NONE")
    values = (rng.integers(-127, 128, w_shape).astype(np.int8) if quantized
              else rng.standard_normal(w_shape).astype(np.float32))
    channels = w_shape[axis]
    w = oplab.const("w", values, scale=rng.uniform(0.005, 0.02, channels).astype(np.float32)
                    if quantized else None, axis=axis if quantized else None)
    ins = [x, w] if kind == "DEPTHWISE_CONV_2D" else [x, w, None]
    out = oplab.out_like(kind, ins, attrs, scale=scale and scale * 8)
    return oplab.one_op(kind, ins, attrs, out)


@pytest.mark.parametrize("dtype", ["int8", "float32", "int16"])
@pytest.mark.parametrize("kind", ["DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
def test_biasless_depthwise_and_fc_run_in_default_resolver(kind, dtype, pool):
    """LiteRT's default resolver crashed on a two-input int8 / float32 depthwise conv: it gets
    a zero bias too; FULLY_CONNECTED takes a missing bias everywhere and keeps none."""
    graph = biasless(kind, dtype, np.random.default_rng(len(kind) + len(dtype)))
    written = write_tflite(graph)
    sub = schema.ModelT.InitFromPackedBuf(written, 0).subgraphs[0]
    inputs = list(sub.operators[0].inputs)
    if kind == "DEPTHWISE_CONV_2D":
        assert len(inputs) == 3 and sub.tensors[inputs[2]].type == BIAS_TYPES[dtype]
    else:
        assert inputs[2:] in ([], [-1]), inputs
    invoke_default(pool, graph, written, f"{kind} {dtype} without bias")
    oplab.check_tflm(graph, np.random.default_rng(5))
