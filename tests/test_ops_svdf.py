"""SVDF with its activation state kept across invokes: float32 and int8 (TFLM's integer SVDF:
int16 time weights and state), ranks 1 and 2, bit-exact over sequences of invokes with a reset
in the reference, TFLite Micro, the generated C on the host and under QEMU.

How the models are made (tests/svdf_models.py): TensorFlow's converter emits no SVDF from
anything Keras builds (tensorflow/tensorflow#63035, tflite-micro#2529), so each model is a
tf_keras model of the SVDF computation over a window of `memory` frames (Dense feature
projection without bias, DepthwiseConv1D(memory) time filter, a frozen rank-summing Dense with
the bias), seeded and untrained; its weights make a one-op SVDF graph of fitml's IR, written to
.tflite by fitml's writer (the state a variable tensor) and, for int8, quantized as TFLM's
integer SVDF wants (calibrated on a seeded stream through the float graph). The float SVDF's
streaming output is checked against the Keras model on sliding windows.

Each sequence is 8 invokes, a reset, then 3 more: after the reset the outputs repeat the first
ones exactly, and an invoke's output depends on the earlier ones (the state is really kept).
"""
from __future__ import annotations

import numpy as np
import pytest

import svdf_models as sm
from cli_util import fitml, one_clear_line
from converted_ops import assert_same
from oplab import assert_close
from toolchain.backends.c import emit_c
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, Op
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import run_sequence

# (input_size, filters, memory, rank, batch)
SHAPES = {"r1": (10, 12, 4, 1, 1), "r2": (6, 8, 5, 2, 1), "r2_wide": (16, 32, 10, 2, 1),
          "r1_batch2": (8, 6, 3, 1, 2)}
CASES = [(mode, name) for mode in ("float32", "int8") for name in SHAPES]
IDS = [f"{m}-{n}" for m, n in CASES]
RESTART = 3          # invokes after the reset


@pytest.fixture(scope="module")
def models():
    """Every (mode, shape) model, built once for the module."""
    built = {}
    for seed, (mode, name) in enumerate(CASES):
        i, f, m, r, b = SHAPES[name]
        built[mode, name] = sm.build(i, f, m, r, mode, seed=seed + 1, batch=b)
    return built


def sequence(model: sm.SvdfModel) -> list:
    frames = [[x] for x in model.frames]
    return frames + [None] + frames[:RESTART]


def compare(want, got, label: str) -> None:
    assert len(got) == len(want), f"{label}: {len(got)} invokes, expected {len(want)}"
    for k, (a, b) in enumerate(zip(want, got)):
        assert_same(a[0], b[0], f"{label} invoke {k}", atol=1e-6)


def check_reset(outs, label: str) -> None:
    n = len(outs) - RESTART
    for k in range(RESTART):
        assert_same(outs[k][0], outs[n + k][0], f"{label}: invoke {k} after the reset",
                    atol=0.0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reference_keeps_state_and_resets(models, case):
    model = models[case]
    outs = run_sequence("reference", model.graph, sequence(model))
    check_reset(outs, "reference")
    stateless = run_graph(model.graph, [model.frames[1]])[0]
    assert not np.array_equal(stateless, outs[1][0]), "invoke 1 ignored invoke 0's state"


@pytest.mark.parametrize("name", [n for n in SHAPES if SHAPES[n][4] == 1])
def test_float_svdf_is_the_keras_model(models, name):
    model = models["float32", name]
    outs = run_sequence("reference", model.graph, [[x] for x in model.frames])
    keras = sm.keras_windows(model.keras, model.frames, SHAPES[name][2])
    for k, (a, b) in enumerate(zip(outs, keras)):
        assert_close(b, a[0], 1e-5, f"step {k}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_tflm_sequence(models, case):
    """TFLM keeps the variable tensor between invokes and reset() clears it: the reference
    matches it invoke for invoke, on fitml's written .tflite."""
    model = models[case]
    seq = sequence(model)
    want = run_sequence("reference", model.graph, seq)
    got = run_sequence("tflm", model.graph, seq)
    compare(want, got, "tflm")
    check_reset(got, "tflm")


C_RUNS = [(c, "host", None) for c in CASES] + [(c, "qemu", "cortex-m4") for c in CASES] + [
    (("int8", "r2"), "qemu", "cortex-m0"), (("float32", "r1"), "qemu", "cortex-m0")]


@pytest.mark.parametrize("case,executor,target", C_RUNS,
                         ids=[f"{e}-{t or 'x86'}-{c[0]}-{c[1]}" for c, e, t in C_RUNS])
def test_generated_c_sequence(models, case, executor, target):
    """The generated C keeps the state in model.c between invokes; reset_state() clears it."""
    model = models[case]
    seq = sequence(model)
    want = run_sequence("reference", model.graph, seq)
    got = run_sequence(executor, model.graph, seq, target=target)
    compare(want, got, f"{executor} {target}")
    check_reset(got, executor)


def test_c_api_has_reset_and_state_outside_arena(models):
    g = models["int8", "r2_wide"].graph
    files = emit_c(g, "kws")
    h, c = files["kws.h"], files["kws.c"]
    state = g.tensors["state"]
    assert "void kws_reset_state(void);" in h and "#define KWS_HAS_STATE 1" in h
    assert f"#define KWS_STATE_BYTES {state.nbytes}" in h
    assert f"static int16_t kws_s0[{state.size}];" in c and "memset(kws_s0, 0" in c
    arena = int(h.split("#define KWS_ARENA_SIZE ")[1].split()[0])
    assert arena < state.nbytes, "the state must not live in the arena"


def test_stateless_model_has_no_reset():
    import oplab
    x = oplab.act("x", (1, 4), "float32")
    g = oplab.one_op("RELU", [x], {}, oplab.out_like("RELU", [x], {}))
    h = emit_c(g, "m")["m.h"]
    assert "#define M_HAS_STATE 0" in h and "void m_reset_state" not in h


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_written_tflite_round_trips(models, mode, tmp_path):
    model = models[mode, "r2"]
    path = tmp_path / "svdf.tflite"
    path.write_bytes(write_tflite(model.graph))
    back = load_tflite(str(path))
    op = back.ops[0]
    assert op.kind == "SVDF" and op.attrs["rank"] == 2
    seq = sequence(model)
    compare(run_sequence("reference", model.graph, seq), run_sequence("reference", back, seq),
            "reread")


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_litert_default_resolver_runs_it(models, mode):
    """LiteRT's default resolver (a phone app's) loads the written file and agrees on the
    first invoke (optimized kernels: float within 1e-5, int8 within 2 steps)."""
    from toolchain.verify.executors import get_executor
    model = models[mode, "r2"]
    want = run_graph(model.graph, [model.frames[0]])[0]
    got = get_executor("litert")(model.graph, [model.frames[0]]).outputs[0]
    if mode == "float32":
        assert_close(want, got, 1e-5, "litert")
    else:
        diff = np.abs(want.astype(int) - got.astype(int))
        assert diff.max() <= 2, f"litert differs by {diff.max()} at {np.argwhere(diff > 2)}"


def _malformed(tmp_path, rank: int, state_shape) -> str:
    """An SVDF .tflite with the given rank and state shape (8 filters, memory 3)."""
    model = sm.float_graph(np.ones((8, 4), np.float32), np.ones((8, 3), np.float32),
                           np.ones(4, np.float32), 1, 2)
    tensors = dict(model.tensors)
    tensors["state"] = tensors["state"].replace(shape=tuple(state_shape),
                                                data=np.zeros(state_shape, np.float32))
    op = model.ops[0]
    bad = Graph.build(tensors.values(), [Op("SVDF", op.inputs, op.outputs, dict(op.attrs,
                                                                               rank=rank))],
                      model.inputs, model.outputs)
    path = tmp_path / f"bad_{rank}_{'x'.join(map(str, state_shape))}.tflite"
    path.write_bytes(write_tflite(bad))
    return str(path)


@pytest.mark.parametrize("rank,state,words", [
    (3, (1, 24), "rank 3 must be positive and divide the 8 filters"),
    (2, (1, 20), "activation_state 'state' must be a variable [1, 24]")])
def test_malformed_svdf_is_one_clear_line(tmp_path, rank, state, words):
    proc = fitml("inspect", _malformed(tmp_path, rank, state))
    assert proc.returncode == 2, proc.stderr
    err = one_clear_line(proc)
    assert "SVDF" in err and words in err, err


def test_two_svdf_layers_keep_separate_states():
    """SVDF -> SVDF -> FULLY_CONNECTED (keyword-spotting shape): two state arrays, each kept
    and reset on its own, equal TFLM and the host C over a sequence."""
    rng = np.random.default_rng(7)
    g = sm.two_svdf_and_fc(rng)
    frames = [[rng.uniform(-1, 1, (1, 6)).astype(np.float32)] for _ in range(7)]
    seq = frames + [None] + frames[:RESTART]
    want = run_sequence("reference", g, seq)
    check_reset(want, "reference")
    assert "model_s1" in emit_c(g)["model.c"]
    for name in ("tflm", "host"):
        compare(want, run_sequence(name, g, seq), name)


def test_inspect_counts_state_apart_from_params(models, tmp_path):
    model = models["int8", "r2_wide"]
    path = tmp_path / "svdf.tflite"
    path.write_bytes(write_tflite(model.graph))
    t = model.graph.tensors
    proc = fitml("inspect", path)
    assert proc.returncode == 0, proc.stderr
    params = sum(t[n].nbytes for n in ("weights_feature", "weights_time", "bias"))
    assert f"params: {params:,} B" in proc.stdout, proc.stdout
    assert f"state kept across invokes: {t['state'].nbytes:,} B" in proc.stdout, proc.stdout
