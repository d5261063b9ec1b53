"""UNIDIRECTIONAL_SEQUENCE_LSTM, the generated C: == the reference on the host and under QEMU
(Cortex-M4 DSP kernel, Cortex-M0 portable) on random one-op LSTMs and the shared MNIST LSTMs,
within half TFLM + CMSIS-NN's instructions; the DSP weight layout only where the SMMLAR
requantization is proven, its lerp tables exact, the int8 stream when flash is short."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from conftest import shared_model
from oplab import assert_close, assert_exact
from toolchain import api
from toolchain.lowering import cvariant
from toolchain.backends.c import lower
from toolchain.lowering.ccall import CArray
from toolchain.frontends.tflite import load_tflite
from toolchain.ops import lstm_dsp
from toolchain.ops import lstm_int8 as li
from toolchain.ops.registry import Node
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph
from lstm_graphs import (FLOAT, INT8, VARIANTS, digit_like, host_dsp_run, int8_cases, lstm_case,
                         lstm_graph, lstm_only)


def test_dsp_fast_path_proof():
    """The SMMLAR requantization is enabled only when its conditions hold."""
    def params(graph):
        return li.int8_params(Node.of(graph, graph.ops[0]).ins, 0.0)
    for name in ("small", "tails_batch3_clip", "time_major", "hidden_zp_cell2^-13"):
        assert lstm_dsp.dsp_fast(params(lstm_case(name, 5))), name
    assert lstm_dsp.dsp_fast(params(lstm_only(load_tflite(shared_model(INT8)))))
    big = params(lstm_case("big_input_scale", 5))
    assert max(s for _, s in big.mult_in) >= 0 and not lstm_dsp.dsp_fast(big)


def _c_matches(graph, executor, seeds=(0, 1), **options):
    run = get_executor(executor)
    for seed in seeds:
        inputs = oplab.random_inputs(graph, np.random.default_rng(100 + seed))
        want = run_graph(graph, inputs)[0]
        got = run(graph, inputs, **options).outputs[0]
        if want.dtype.kind == "f":
            assert_close(want, got, 1e-5, f"{executor} seed {seed}")
        else:
            assert_exact(want, got, f"{executor} seed {seed}")


@pytest.mark.parametrize("name", VARIANTS)
def test_c_host_one_op(name):
    _c_matches(lstm_case(name, 3), "host")
    if name != "big_input_scale":
        _c_matches(lstm_case(name, 3, "float32"), "host", seeds=(0,))


@pytest.mark.parametrize("core", ["cortex-m4", "cortex-m0"])
def test_c_qemu_one_op(core):
    for name in ("tails_batch3_clip", "hidden_zp_cell2^-13", "big_input_scale"):
        _c_matches(lstm_case(name, 5), "qemu", seeds=(0,), target=core)
    _c_matches(lstm_case("time_major", 5, "float32"), "qemu", seeds=(0,), target=core)


# ------------------------------------------------------------------ the shared models


@pytest.mark.parametrize("rel", [INT8, FLOAT])
def test_mnist_lstm_c_host_and_qemu(rel):
    graph = lstm_only(load_tflite(shared_model(rel)))
    cases = int8_cases()[:2]
    if rel == FLOAT:
        cases = [((x.astype(np.float32) + 128) / 255).astype(np.float32) for x in cases]
    for executor, opts in [("host", {}), ("qemu", {"target": "cortex-m4"}),
                           ("qemu", {"target": "cortex-m0"})]:
        for c, x in enumerate(cases):
            want = run_graph(graph, [x])[0]
            got = get_executor(executor)(graph, [x], **opts).outputs[0]
            label = f"{rel} {executor} {opts} case {c}"
            if rel == FLOAT:
                assert_close(want, got, 1e-5, label)
            else:
                assert_exact(want, got, label)


def test_mnist_int8_beats_tflm_cmsis_nn_on_cortex_m4():
    """TFLM + CMSIS-NN: 574,385 instructions and a 4,052-byte arena (shared baseline table):
    fitml needs at most half the instructions."""
    graph = load_tflite(shared_model(INT8))
    assert api.inspect(graph)["macs"] == 113_120
    x = digit_like(1)
    res = get_executor("qemu")(graph, [x], target="cortex-m4")
    assert_exact(run_graph(graph, [x])[0], res.outputs[0], "mnist_lstm_int8 m4")
    assert res.stats["instructions"] <= 574_385 // 2
    assert lower(graph, variant="dsp").plan.arena_size < 4_052


# ------------------------------------------------------------------ the DSP layout path

FAST = ["small", "tails_batch3_clip", "time_major", "hidden_zp_cell2^-13", "odd_units_batch2"]


def _lowered_params(graph, variant):
    return lower(graph, variant=variant).calls[0].params


@pytest.mark.parametrize("name", FAST + ["big_input_scale"])
def test_dsp_layout_replaces_int8_weights_only_when_proven(name):
    graph = lstm_case(name, 2)
    dsp, mve = _lowered_params(graph, "dsp"), _lowered_params(graph, "mve")
    assert mve["filter_dsp"] == "NULL" and isinstance(mve["input_weights"], CArray)
    if name == "big_input_scale":          # no SMMLAR proof: int8 weights, no layout
        assert dsp["filter_dsp"] == "NULL" and isinstance(dsp["input_weights"], CArray)
        return
    assert isinstance(dsp["filter_dsp"], CArray), name
    assert dsp["input_weights"] == dsp["recurrent_weights"] == "NULL"
    with cvariant.plain_layouts([graph.ops[0].outputs[0]]):     # no room: the int8 stream
        plain = _lowered_params(graph, "dsp")
    assert plain["filter_dsp"] == "NULL" and isinstance(plain["weights_dsp"], CArray)
    assert plain["input_weights"] == plain["recurrent_weights"] == "NULL"


def test_lerp_tables_reproduce_the_int16_sigmoid_and_tanh():
    """Every int16 gate input and every cell state of each cell scale; a one-entry change is
    caught (the check can fail)."""
    for cell_log2 in range(-15, -7):
        graph = lstm_graph(0, cell_log2=cell_log2)
        p = li.int8_params(Node.of(graph, graph.ops[0]).ins, 0.0)
        m, s = p.cell_tanh
        m, s = (3 << s, 0) if m == 0 else (m, s)
        assert lstm_dsp.lerp_exact(p, m, s), cell_log2
    sig, tanh = lstm_dsp.lerp_tables()
    q = np.arange(-32768, 32768, dtype=np.int64)
    bad = sig.copy()
    bad[200, 1] += 1
    assert not np.array_equal(lstm_dsp.lerp_eval(bad, -192, 3 * q, 9, 10),
                              lstm_dsp.lerp_eval(sig, -192, 3 * q, 9, 10))


def _run_host_dsp(graph, inputs, tmp_path):
    """The DSP-lowered C built for the host (no DSP extension: plain C over the layout)."""
    return host_dsp_run(graph, inputs, tmp_path, "filter_dsp")  # the layout, not int8


@pytest.mark.parametrize("name", FAST)
def test_dsp_layout_plain_c_on_host(name, tmp_path):
    graph = lstm_case(name, 4)
    assert isinstance(_lowered_params(graph, "dsp")["filter_dsp"], CArray)
    for seed in (0, 1):
        inputs = oplab.random_inputs(graph, np.random.default_rng(200 + seed))
        assert_exact(run_graph(graph, inputs)[0], _run_host_dsp(graph, inputs, tmp_path),
                     f"{name} host dsp seed {seed}")


def test_dsp_layout_on_cortex_m4_every_shape_and_the_int8_fallback():
    for name in ("small", "time_major", "odd_units_batch2"):
        _c_matches(lstm_case(name, 6), "qemu", seeds=(0,), target="cortex-m4")
    graph = lstm_case("odd_units_batch2", 6)
    # layout given up for flash: the int8 stream (more in test_lstm_s8_stream_kernel.py)
    with cvariant.plain_layouts([graph.ops[0].outputs[0]]):
        _c_matches(graph, "qemu", seeds=(1,), target="cortex-m4")
