"""PTQ's calibration and observers: observers clip outliers minmax keeps, histograms regrow
exactly, TFLite's nudged parameters, calibration file errors and formats, the progress bar,
the API quantizing from a folder of .npy files."""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from conftest import shared_model
from ptq_cases import assert_tflm_equal, hello_samples
from toolchain import api
from toolchain.backends.tflite import write_tflite
from toolchain.errors import UsageError
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph
from toolchain.quant import calibration, observers
from toolchain.quant.accuracy import evaluate
from toolchain.quant.calibration import BINS, TensorStats, collect
from toolchain.quant.ptq import quantize


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
    collect(graph, hello_samples(3, 0))
    assert capsys.readouterr().err == ""        # pytest's stderr is not a TTY

    class Tty(io.StringIO):
        def isatty(self):
            return True
    for progress, shown in ((None, True), (False, False)):
        fake = Tty()
        monkeypatch.setattr(sys, "stderr", fake)
        collect(graph, hello_samples(3, 0), progress=progress)
        monkeypatch.undo()
        assert ("calibrating" in fake.getvalue()) == shown


def test_api_quantize_from_a_directory(tmp_path):
    path = shared_model("tflm/hello_world_float.tflite")
    for i, (x,) in enumerate(hello_samples(8, 4)):
        np.save(tmp_path / f"x{i}.npy", x)
    q = api.quantize(str(path), tmp_path, observer="mse", io="float", progress=False)
    assert_tflm_equal(q, write_tflite(q), hello_samples(3, 5), "api")
    graph = load_tflite(path)
    assert evaluate(graph, q, hello_samples(50, 6), progress=False).output_snr_db[0] > 20
