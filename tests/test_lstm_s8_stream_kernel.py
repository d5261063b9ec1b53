"""The int8 LSTM's DSP path without pre-widened weights (ops/lstm_s8_stream.py,
runtime_c/src/dsp/fitml_lstm_s8_stream.h), on one-op LSTMs of every tail shape: the stream is
the int8 weights and biases reordered, no byte more; the kernel's sigmoid/tanh are TFLM's on
every input; the lowering uses the stream only without the layout; the generated C equals the
reference (== TFLM) on the host and under QEMU (Cortex-M4, M7, M33)."""
from __future__ import annotations


import numpy as np
import pytest

import oplab
from oplab import assert_exact
from lstm_graphs import host_dsp_run, lstm_graph
from toolchain.backends.c import lower
from toolchain.lowering import cvariant
from toolchain.lowering.ccall import CArray
from toolchain.ops import int16_nonlinear as nl
from toolchain.ops import lstm_int8 as li
from toolchain.ops import lstm_s8_stream as st
from toolchain.ops.interpreter import run_graph
from toolchain.ops.registry import Node
from toolchain.verify.executors import get_executor


# (batch, time, input size, units): whole blocks only, every tail 1-3 of x and h, no whole block
SHAPES = {"blocks": (1, 5, 8, 8), "tails_3_2_clip": (3, 4, 7, 6), "tails_1_0": (1, 7, 5, 12),
          "tails_3_1": (2, 3, 3, 5), "tails_2_3": (1, 4, 10, 3), "tiny_1_1": (1, 3, 1, 1),
          "time_major_2_0": (2, 4, 6, 4)}


def case(name: str, seed: int = 3):
    batch, time, n_in, units = SHAPES[name]
    return lstm_graph(seed, batch=batch, time=time, n_in=n_in, units=units,
                      time_major="major" in name, clip=1.5 if "clip" in name else 0.0,
                      hidden_zp=-5 if seed % 2 else 0)


def params(graph) -> li.Int8Lstm:
    node = Node.of(graph, graph.ops[0])
    return li.int8_params(node.ins, float(node.attr("cell_clip", 0.0)))


def decode(stream: np.ndarray, n_in: int, units: int):
    """(w_in, w_rec, bias_in, bias_rec) read back from a stream, as the kernel walks it."""
    pos, out = 0, {k: [] for k in ("w_in", "b_in", "w_rec", "b_rec")}
    for _ in range(units):
        for w_key, b_key, n in (("w_in", "b_in", n_in), ("w_rec", "b_rec", units)):
            out[b_key].append(stream[pos:pos + 16].view(np.int32) // 2)
            pos += 16
            whole = n // 4 * 4
            blocks = stream[pos:pos + 4 * whole].reshape(-1, 4, 4).transpose(1, 0, 2)
            pos += 4 * whole
            tail = stream[pos:pos + 4 * (n - whole)].reshape(-1, 4).T
            pos += 4 * (n - whole)
            out[w_key].append(np.concatenate([blocks.reshape(4, whole), tail], axis=1))
    assert pos == stream.size
    return [np.stack(out[k], axis=1) for k in ("w_in", "w_rec", "b_in", "b_rec")]


@pytest.mark.parametrize("name", SHAPES)
def test_stream_is_the_int8_weights_and_biases_reordered(name):
    p = params(case(name))
    units, n_in = p.w_in.shape[1], p.w_in.shape[2]
    stream = st.stream(p)
    assert stream.dtype == np.int8
    assert stream.nbytes == p.w_in.size + p.w_rec.size + 2 * 4 * units * 4   # no byte more
    w_in, w_rec, b_in, b_rec = decode(stream, n_in, units)
    for got, want in ((w_in, p.w_in), (w_rec, p.w_rec), (b_in, p.bias_in), (b_rec, p.bias_rec)):
        assert np.array_equal(got, want)


def test_kernel_sigmoid_and_tanh_equal_tflm_on_every_input():
    """Every int16 gate input and every cell state of each cell scale; the 257th table entry
    is what makes the clamped tanh saturate as TFLM's (a different one is caught)."""
    for cell_log2 in range(-15, -7):
        m, s = params(lstm_graph(0, cell_log2=cell_log2)).cell_tanh
        assert st.exact(*((3 << s, 0) if m == 0 else (m, s))), cell_log2
    q = np.arange(-32768, 32768, dtype=np.int64)
    bad = st.table()
    bad[256] -= 1
    assert not np.array_equal(st.tanh(3 * q, bad), nl.tanh_s16(q, 0, 0))
    bad = st.table()
    bad[100] += 1
    assert not np.array_equal(st.sigmoid(q, bad), nl.logistic_s16(q, 0, 0))


def lowered(graph, variant: str, plain: bool = False) -> dict:
    if not plain:
        return lower(graph, variant=variant).calls[0].params
    with cvariant.plain_layouts([graph.ops[0].outputs[0]]):
        return lower(graph, variant=variant).calls[0].params


@pytest.mark.parametrize("name", SHAPES)
def test_the_stream_replaces_the_int8_arrays_only_without_the_layout(name):
    graph = case(name)
    full, tight = lowered(graph, "dsp"), lowered(graph, "dsp", plain=True)
    assert isinstance(full["filter_dsp"], CArray) and full["weights_dsp"] == "NULL"
    assert tight["filter_dsp"] == "NULL" and isinstance(tight["weights_dsp"], CArray)
    for key in ("input_weights", "recurrent_weights", "input_bias", "recurrent_bias"):
        assert tight[key] == "NULL", key
    assert len(tight["sigmoid_table"].values) == 257
    for variant in ("portable", "mve"):
        other = lowered(graph, variant, plain=True)
        assert other["weights_dsp"] == "NULL" and isinstance(other["input_weights"], CArray)
        assert len(other["sigmoid_table"].values) == 256
    slow = lstm_graph(5, time=3, n_in=16, units=4, x_scale=0.5)     # no SMMLAR proof
    assert lowered(slow, "dsp", plain=True)["weights_dsp"] == "NULL"


def stream_host_run(graph, inputs, tmp_path) -> np.ndarray:
    """The DSP-lowered C without the layout, built for the host (plain C over the stream)."""
    with cvariant.plain_layouts([graph.ops[0].outputs[0]]):
        return host_dsp_run(graph, inputs, tmp_path, "weights_dsp")


@pytest.mark.parametrize("name", SHAPES)
def test_stream_plain_c_on_host(name, tmp_path):
    graph = case(name, seed=4)
    for seed in (0, 1):
        inputs = oplab.random_inputs(graph, np.random.default_rng(300 + seed))
        assert_exact(run_graph(graph, inputs)[0], stream_host_run(graph, inputs, tmp_path),
                     f"{name} seed {seed}")


def test_stream_on_cortex_m4_every_tail_shape():
    for i, name in enumerate(SHAPES):
        graph = case(name, seed=6 + i)
        inputs = oplab.random_inputs(graph, np.random.default_rng(400 + i))
        with cvariant.plain_layouts([graph.ops[0].outputs[0]]):
            got = get_executor("qemu")(graph, inputs, target="cortex-m4").outputs[0]
        assert_exact(run_graph(graph, inputs)[0], got, name)


def test_stream_on_cortex_m7_and_m33():
    for i, core in enumerate(("cortex-m7", "cortex-m33")):
        graph = case("tails_3_2_clip", seed=20 + i)
        inputs = oplab.random_inputs(graph, np.random.default_rng(500 + i))
        with cvariant.plain_layouts([graph.ops[0].outputs[0]]):
            got = get_executor("qemu")(graph, inputs, target=core).outputs[0]
        assert_exact(run_graph(graph, inputs)[0], got, core)
