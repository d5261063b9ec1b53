"""UNIDIRECTIONAL_SEQUENCE_LSTM, the reference: == TFLite Micro (int8 bit-exact, float to 1e-5,
and LiteRT) on random one-op LSTMs and on every tensor of the shared MNIST LSTMs; unsupported
variants refused by name; the .tflite round trip runs the same in TFLM and LiteRT."""
from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

import oplab
from conftest import shared_model
from oplab import assert_close, assert_exact
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, GraphError, QuantParams, Tensor
from toolchain.ops import lstm_math as lm
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm
from lstm_graphs import FLOAT, INT8, KIND, VARIANTS, int8_cases, lstm_case, lstm_only


@pytest.mark.parametrize("name", VARIANTS)
def test_int8_one_op_equals_tflm(name):
    for seed in range(4):
        graph = lstm_case(name, seed)
        oplab.check_tflm(graph, np.random.default_rng(seed))


@pytest.mark.parametrize("name", ["small", "tails_batch3_clip", "time_major"])
def test_float_one_op_close_to_tflm_and_litert(name):
    for seed in range(3):
        graph = lstm_case(name, seed, "float32")
        oplab.check_tflm(graph, np.random.default_rng(seed), litert=True, atol=1e-5)


# ------------------------------------------------------------------ refusals

def _with_input(graph: Graph, index: int, tensor: Tensor | None, **attrs) -> Graph:
    op = graph.ops[0]
    inputs = list(op.inputs)
    inputs[index] = tensor.name if tensor is not None else ""
    tensors = dict(graph.tensors)
    if tensor is not None:
        tensors[tensor.name] = tensor
    new = op.replace(inputs=inputs, attrs={**dict(op.attrs), **attrs})
    return graph.replace(tensors=tensors, ops=[new])


@pytest.mark.parametrize("index,attrs,needle", [
    (9, {}, "peephole"), (16, {}, "projection"), (20, {}, "layer-norm"),
    (None, {"activation": "RELU"}, "TANH"), (1, {}, "CIFG")])
def test_unsupported_variants_are_refused_by_name(index, attrs, needle):
    graph = lstm_case("small", 0)
    extra = None
    if index is not None and index != 1:
        extra = oplab.const("extra", np.ones(8, np.int16), scale=[0.01])
    broken = _with_input(graph, index if index is not None else 9, extra, **attrs)
    with pytest.raises(GraphError, match=f"{KIND}.*{needle}"):
        broken.validate()


def test_per_channel_weights_and_nonpow2_cell_are_refused():
    graph = lstm_case("small", 0)
    w = graph.tensors["w2"]
    per_ch = w.replace(quant=QuantParams(np.full(8, 0.01), np.zeros(8), 0))
    with pytest.raises(GraphError, match="per-tensor"):
        graph.replace(tensors={**graph.tensors, "w2": per_ch}).validate()
    c0 = graph.tensors["c0"].replace(quant=QuantParams(0.0003, 0))
    with pytest.raises(GraphError, match="power of two"):
        graph.replace(tensors={**graph.tensors, "c0": c0}).validate()


# ------------------------------------------------------------------ the shared models


def test_mnist_int8_every_tensor_equals_tflm():
    path = shared_model(INT8)
    graph, blob = load_tflite(path), path.read_bytes()
    names = list(graph.tensors)
    produced = {n for op in graph.ops for n in op.outputs} | set(graph.inputs)
    for c, x in enumerate(int8_cases()):
        values = run_graph(graph, [x], keep_all=True)
        _, interp = run_tflm(blob, [x], preserve_all=True)
        for name in produced:
            theirs = np.asarray(interp.GetTensor(names.index(name), 0)["tensor_data"])
            assert_exact(theirs.reshape(values[name].shape), values[name], f"case {c} {name}")


def test_mnist_float_close_to_tflm_and_litert():
    path = shared_model(FLOAT)
    graph, blob = load_tflite(path), path.read_bytes()
    lstm = lstm_only(graph)
    out = lstm.outputs[0]
    index = list(graph.tensors).index(out)
    for c, x in enumerate(int8_cases()[:4]):
        x = ((x.astype(np.float32) + 128) / 255).astype(np.float32)
        ours = run_graph(graph, [x], keep_all=True)
        _, interp = run_tflm(blob, [x], preserve_all=True)
        theirs = np.asarray(interp.GetTensor(index, 0)["tensor_data"]).reshape(ours[out].shape)
        assert_close(theirs, ours[out], 1e-5, f"case {c} LSTM output vs TFLM")
        assert_close(run_litert(blob, [x])[0], ours[graph.outputs[0]], 1e-5, f"case {c}")


def test_mnist_round_trip_runs_the_same_in_tflm_and_litert():
    for rel in (INT8, FLOAT):
        path = shared_model(rel)
        original = path.read_bytes()
        written = write_tflite(load_tflite(path))
        assert write_tflite(load_tflite(written)) == written
        model = schema.ModelT.InitFromPackedBuf(written, 0)
        sub = model.subgraphs[0]
        op = sub.operators[0]
        assert len(op.inputs) == 24
        states = [sub.tensors[op.inputs[i]] for i in (lm.HIDDEN, lm.CELL)]
        assert all(t.isVariable and not model.buffers[t.buffer].data for t in states)
        for x in int8_cases()[:3]:
            x = x if rel == INT8 else ((x.astype(np.float32) + 128) / 255).astype(np.float32)
            assert_exact(run_tflm(original, [x])[0], run_tflm(written, [x])[0], rel)
            assert_exact(run_litert(original, [x])[0], run_litert(written, [x])[0], rel)


def test_writer_refuses_a_nonzero_initial_state():
    graph = lstm_case("small", 0)
    h0 = graph.tensors["h0"]
    h1 = h0.replace(data=np.ones(h0.shape, np.int8))
    with pytest.raises(GraphError, match="nonzero initial"):
        write_tflite(graph.replace(tensors={**graph.tensors, "h0": h1}))
