"""UNIDIRECTIONAL_SEQUENCE_LSTM keeps its hidden and cell states across invokes, as TFLite
Micro keeps the variable tensors (inputs 18, 19) until ResetVariableTensors: bit-exact (float
within 1e-5) over a sequence of invokes with a reset in the reference, TFLM, the generated C
on the host and under QEMU (Cortex-M4: the DSP layout and the int8 stream; Cortex-M0: the
portable kernels).

Models: a small streaming Keras LSTM converted by TensorFlow's converter, float32 and int8
(full-integer PTQ: its int8 hidden state has a nonzero zero point, which a reset restores),
one-op LSTMs with batches and time_major (tests/lstm_graphs.py), and the shared MNIST LSTMs.
Each sequence is 5 invokes, a reset, then 2 more: after the reset the outputs repeat the first
ones exactly, and an invoke's output depends on the earlier ones (the state is really kept).
"""
from __future__ import annotations

import numpy as np
import pytest

import lstm_models
import oplab
from conftest import shared_model
from converted_ops import assert_same
from lstm_graphs import FLOAT, INT8, int8_cases, lstm_case
from toolchain.backends.c import emit_c, lower
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.lowering import cvariant
from toolchain.ops import lstm_math as lm
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import run_sequence
from toolchain.verify.tflm import run_tflm_sequence

RESTART = 2          # invokes after the reset
MODES = ("float32", "int8")


@pytest.fixture(scope="module")
def models():
    """mode -> (converter's .tflite, graph, sequence), built once for the module."""
    built = {}
    for mode in MODES:
        blob = lstm_models.streaming_lstm(mode == "int8")
        graph = load_tflite(blob)
        rng = np.random.default_rng(11)
        frames = [oplab.random_inputs(graph, rng) for _ in range(5)]
        built[mode] = (blob, graph, frames + [None] + frames[:RESTART])
    return built


def compare(want, got, label: str) -> None:
    assert len(got) == len(want), f"{label}: {len(got)} invokes, expected {len(want)}"
    for k, (a, b) in enumerate(zip(want, got)):
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{label} invoke {k} output {i}", atol=1e-5)


def check_reset(outs, label: str) -> None:
    n = len(outs) - RESTART
    for k in range(RESTART):
        assert_same(outs[k][0], outs[n + k][0], f"{label}: invoke {k} after the reset",
                    atol=0.0)


@pytest.mark.parametrize("mode", MODES)
def test_reference_keeps_state_and_resets(models, mode):
    _, graph, seq = models[mode]
    outs = run_sequence("reference", graph, seq)
    check_reset(outs, "reference")
    stateless = run_graph(graph, seq[1])[0]
    assert not np.array_equal(stateless, outs[1][0]), "invoke 1 ignored invoke 0's state"
    assert_same(run_graph(graph, seq[0])[0], outs[0][0], "invoke 0 from the initial state", 0)


@pytest.mark.parametrize("mode", MODES)
def test_tflm_sequence_on_the_converters_and_the_written_file(models, mode):
    """TFLM keeps the variable tensors between invokes and reset() sets them back (the int8
    hidden state to its zero point): the reference matches it invoke for invoke, on the
    converter's file and on fitml's rewrite (the states still variable tensors)."""
    blob, graph, seq = models[mode]
    want = run_sequence("reference", graph, seq)
    inputs = [None if s is None else [np.asarray(x) for x in s] for s in seq]
    compare(want, run_tflm_sequence(blob, inputs), "tflm (converter's file)")
    compare(want, run_sequence("tflm", graph, seq), "tflm (fitml's file)")
    back = load_tflite(write_tflite(graph))
    compare(want, run_sequence("reference", back, seq), "reference (reread)")


C_RUNS = [(m, "host", None) for m in MODES] + [(m, "qemu", c) for m in MODES
                                              for c in ("cortex-m4", "cortex-m0")]


@pytest.mark.parametrize("mode,executor,target", C_RUNS,
                         ids=[f"{e}-{t or 'x86'}-{m}" for m, e, t in C_RUNS])
def test_generated_c_sequence(models, mode, executor, target):
    """model.c keeps the states in static arrays between invokes; reset_state() restores
    them (Cortex-M4 int8: the DSP layout)."""
    _, graph, seq = models[mode]
    want = run_sequence("reference", graph, seq)
    got = run_sequence(executor, graph, seq, target=target)
    compare(want, got, f"{executor} {target}")
    check_reset(got, f"{executor} {target}")


def _lstm_params(graph, variant: str) -> dict:
    low = lower(graph, variant=variant)
    return next(c.params for c in low.calls if c.kernel == "fitml_lstm_s8")


def test_int8_stream_kernel_sequence_on_cortex_m4(models):
    """The DSP kernel's int8 stream (the layout given up for flash) keeps the states too."""
    _, graph, seq = models["int8"]
    assert _lstm_params(graph, "dsp")["filter_dsp"] != "NULL"
    want = run_sequence("reference", graph, seq)
    with cvariant.plain_layouts([graph.ops[0].outputs[0]]):
        assert _lstm_params(graph, "dsp")["weights_dsp"] != "NULL"
        got = run_sequence("qemu", graph, seq, target="cortex-m4")
    compare(want, got, "qemu m4 int8 stream")


def test_c_api_keeps_states_outside_the_arena(models):
    """Two static arrays (the int8 hidden state initialized to its zero point, restored by
    memcpy; the int16 cell state zeroed), counted in STATE_BYTES, absent from the arena."""
    _, graph, _ = models["int8"]
    op = graph.ops[0]
    h, c = graph.tensors[op.inputs[lm.HIDDEN]], graph.tensors[op.inputs[lm.CELL]]
    assert h.quant.zp != 0 and np.all(h.data == h.quant.zp)
    files = emit_c(graph, "kws")
    hdr, src = files["kws.h"], files["kws.c"]
    assert "void kws_reset_state(void);" in hdr and "#define KWS_HAS_STATE 1" in hdr
    assert f"#define KWS_STATE_BYTES {h.nbytes + c.nbytes}" in hdr
    assert f"static int8_t kws_s0[{h.size}] = {{" in src
    assert "memcpy(kws_s0, kws_s0_init, sizeof(kws_s0));" in src
    assert f"static int16_t kws_s1[{c.size}];" in src and "memset(kws_s1, 0" in src
    plan = lower(graph).plan
    assert h.name not in plan.offsets and c.name not in plan.offsets


# ------------------------------------------------------------ batches, time_major (one-op)

ONE_OP = [("tails_batch3_clip", "int8"), ("time_major", "int8"), ("time_major", "float32"),
          ("hidden_zp_cell2^-13", "int8"), ("odd_units_batch2", "float32")]


@pytest.mark.parametrize("name,mode", ONE_OP, ids=[f"{n}-{m}" for n, m in ONE_OP])
def test_one_op_batches_and_time_major_sequence(name, mode):
    """Each batch row keeps its own states, in either layout: reference == TFLM == host C."""
    graph = lstm_case(name, 8, mode)
    rng = np.random.default_rng(3)
    frames = [oplab.random_inputs(graph, rng) for _ in range(3)]
    seq = frames + [None] + frames[:RESTART]
    want = run_sequence("reference", graph, seq)
    check_reset(want, "reference")
    for executor in ("tflm", "host"):
        compare(want, run_sequence(executor, graph, seq), f"{name} {executor}")


# ------------------------------------------------------------------ the shared MNIST LSTMs

@pytest.mark.parametrize("rel", [INT8, FLOAT])
def test_mnist_lstm_three_invokes(rel):
    """Three digits streamed through one model (the second and third start from the states
    the previous left), a reset, the first again: TFLM, the host and Cortex-M4 agree."""
    blob = shared_model(rel).read_bytes()
    graph = load_tflite(blob)
    cases = int8_cases()[:3]
    if rel == FLOAT:
        cases = [((x.astype(np.float32) + 128) / 255).astype(np.float32) for x in cases]
    seq = [[x] for x in cases] + [None, [cases[0]]]
    want = run_sequence("reference", graph, seq)
    assert_same(want[0][0], want[3][0], "after the reset", 0.0)
    compare(want, run_tflm_sequence(blob, seq), f"{rel} tflm")
    for executor, target in (("host", None), ("qemu", "cortex-m4")):
        compare(want, run_sequence(executor, graph, seq, target=target), f"{rel} {executor}")
