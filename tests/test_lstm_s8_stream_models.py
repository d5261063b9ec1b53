"""The int8 LSTM stream on whole models: the shared MNIST LSTM and the Keras-built KWS and
noise-suppression LSTMs (tests/lstm_models.py) equal the reference (== TFLM) under QEMU with the
DSP layout (full flash) and without it (flash = .tflite + 12 KB); fitml's instructions at tight
flash stay within 0.6x TFLM + CMSIS-NN on the MNIST LSTM (issue #14); over a sequence of
invokes each LSTM keeps its own states."""
from __future__ import annotations

import numpy as np
import pytest

import lstm_models
import oplab
from conftest import shared_model
from oplab import assert_exact
from toolchain import api
from toolchain.backends.c import lower
from toolchain.frontends.tflite import load_tflite
from toolchain.ops import lstm_math as lm
from toolchain.ops.interpreter import run_graph
from toolchain.report.fit import with_overrides
from toolchain.targets import load_target
from toolchain.verify import qemu_build
from toolchain.verify.executors import get_executor, run_sequence
from toolchain.verify.tflm import run_tflm, run_tflm_sequence
from toolchain.verify.baseline_inputs import lcg_inputs as lcg_input  # noqa: E402


KIND = lm.KIND
MNIST = "tflm/mnist_lstm_int8.tflite"
MNIST_TFLM_CMSIS = 574_385          # ../shared/baselines/TFLM_CORTEX_M4.md
TIGHT = 12 * 1024                   # flash = .tflite size + 12 KB


def tight_target(blob_size: int):
    return with_overrides(load_target("cortex-m4"), None, blob_size + TIGHT)


def lstm_calls(graph, target) -> list[dict]:
    tgt = qemu_build.emulation_target(target)
    low = lower(graph, layout=qemu_build.harness_layout(tgt, graph), variant=tgt.kernel_variant)
    return [c.params for c in low.calls if c.kernel == "fitml_lstm_s8"]


def run_both_budgets(graph, blob: bytes, inputs, int8_only: bool = True) -> dict[str, int]:
    """QEMU Cortex-M4 at full flash (every LSTM with its layout) and tight flash (every LSTM on
    the int8 stream; with `int8_only` False at least one, the layout choice may keep others):
    outputs equal the reference; the instructions."""
    want = run_graph(graph, inputs)
    counts = {}
    for mode, target in (("full", "cortex-m4"), ("tight", tight_target(len(blob)))):
        calls = lstm_calls(graph, target)
        assert calls and all((c["filter_dsp"] == "NULL") != (c["weights_dsp"] == "NULL")
                             for c in calls)                  # a layout or the stream, one
        streams = sum(c["weights_dsp"] != "NULL" for c in calls)
        want_streams = (0,) if mode == "full" else \
            (len(calls),) if int8_only else range(1, len(calls) + 1)
        assert streams in want_streams, (mode, streams)
        res = get_executor("qemu")(graph, inputs, target=target)
        for w, g in zip(want, res.outputs):
            assert_exact(w, g, mode)
        counts[mode] = res.stats["instructions"]
    return counts


def test_mnist_lstm_int8_weights_only_within_0_6x_tflm_cmsis_nn():
    path = shared_model(MNIST)
    graph = load_tflite(path)
    counts = run_both_budgets(graph, path.read_bytes(), lcg_input(graph))
    assert counts["tight"] <= 0.6 * MNIST_TFLM_CMSIS, counts
    assert counts["full"] <= MNIST_TFLM_CMSIS // 2, counts


@pytest.fixture(scope="module", params=sorted(lstm_models.GENERATED))
def generated(request):
    blob = lstm_models.GENERATED[request.param]()
    return request.param, blob, load_tflite(blob)


def test_generated_model_shapes(generated):
    name, _, graph = generated
    kinds = [op.kind for op in graph.ops]
    assert kinds.count(KIND) == (2 if name == "noise_suppression" else 1), kinds
    assert ("LOGISTIC" if name == "noise_suppression" else "SOFTMAX") in kinds


def test_generated_reference_equals_tflm(generated):
    name, blob, graph = generated
    rng = np.random.default_rng(5)
    for c in range(3):
        inputs = oplab.random_inputs(graph, rng) if c else lcg_input(graph)
        ours = run_graph(graph, inputs)[0]
        theirs = np.asarray(run_tflm(blob, inputs)[0]).reshape(ours.shape)
        assert_exact(theirs, ours, f"{name} case {c}")


def test_generated_c_host_m0_and_m4_both_flash_budgets(generated):
    """Host and Cortex-M0 (portable) equal the reference; Cortex-M4 at full and tight flash
    too, the DSP kernels within their instructions per MAC (layout: ~1.4; int8: ~1.9)."""
    name, blob, graph = generated
    inputs = lcg_input(graph)
    want = run_graph(graph, inputs)[0]
    for executor, opts in (("host", {}), ("qemu", {"target": "cortex-m0"})):
        assert_exact(want, get_executor(executor)(graph, inputs, **opts).outputs[0],
                     f"{name} {executor} {opts}")
    counts = run_both_budgets(graph, blob, inputs, int8_only=False)
    macs = api.inspect(graph)["macs"]
    assert counts["full"] <= 1.5 * macs and counts["tight"] <= 2.1 * macs, (counts, macs)


def test_generated_sequence_keeps_each_lstms_state(generated):
    """Three invokes, a reset, the first again: each LSTM (two stacked in the noise
    suppressor) keeps its own states, in TFLM (the converter's file) and the host C alike."""
    name, blob, graph = generated
    rng = np.random.default_rng(9)
    frames = [oplab.random_inputs(graph, rng) for _ in range(3)]
    seq = frames + [None, frames[0]]
    want = run_sequence("reference", graph, seq)
    assert_exact(want[0][0], want[3][0], f"{name} after the reset")
    state: dict = {}
    run_graph(graph, frames[0], state=state)
    kept = run_graph(graph, frames[1], keep_all=True, state=state)
    fresh = run_graph(graph, frames[1], keep_all=True)
    lstm = next(op.outputs[0] for op in graph.ops if op.kind == KIND)
    assert not np.array_equal(kept[lstm], fresh[lstm]), "invoke 1 ignored invoke 0's state"
    for label, got in (("tflm", run_tflm_sequence(blob, seq)),
                       ("host", run_sequence("host", graph, seq))):
        for k, (w, g) in enumerate(zip(want, got)):
            assert_exact(w[0], np.asarray(g[0]).reshape(w[0].shape), f"{name} {label} {k}")
