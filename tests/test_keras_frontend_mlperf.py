"""Keras frontend on the MLPerf Tiny .h5 models (VWW, IC, AD): the float graph equals Keras's
outputs (reference and LiteRT within 1e-4), folds BatchNorm and fuses ReLU into the same op
kinds and counts as the released float .tflite twins, and has the MACs and parameters of
MANIFEST.md."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from conftest import shared_model
from toolchain import api
from toolchain.frontends.keras import load_keras
from keras_builders import assert_matches_keras, random_inputs
from keras_builders import libs  # noqa: F401 (fixture)


REAL = {"vww": ("mlperf_tiny/vww/vww_96.h5", "mlperf_tiny/vww/vww_96_float.tflite", 0, 1),
        "ic": ("mlperf_tiny/ic/pretrainedResnet.h5", "mlperf_tiny/ic/pretrainedResnet.tflite",
               0, 255),
        "ad": ("mlperf_tiny/ad/ad01.h5", None, -3, 3)}


@pytest.fixture(scope="session")
def real_model(libs, request):
    h5, _, _, _ = REAL[request.param]
    path = shared_model(h5)
    return request.param, libs["tf_keras"].models.load_model(path, compile=False), path


@pytest.mark.parametrize("real_model", sorted(REAL), indirect=True)
def test_mlperf_tiny_h5_equals_keras(real_model):
    key, model, path = real_model
    graph = load_keras(path)
    assert dict(graph.metadata) == {"source": path.name, "format": "keras"}
    rng = np.random.default_rng(7)
    lo, hi = REAL[key][2:]
    for _ in range(2):
        assert_matches_keras(graph, model, random_inputs(graph, rng, lo, hi))


@pytest.mark.parametrize("real_model", ["vww", "ic"], indirect=True)
def test_mlperf_tiny_h5_folds_like_the_float_tflite(real_model):
    """BatchNorm folded and ReLU fused: the same op kinds and counts as the released twin."""
    from toolchain.frontends.tflite import load_tflite

    key, _, path = real_model
    twin = load_tflite(shared_model(REAL[key][1]))
    assert Counter(o.kind for o in load_keras(path).ops) == Counter(o.kind for o in twin.ops)


def test_ad01_folds_batchnorm_into_dense():
    graph = load_keras(shared_model(REAL["ad"][0]))
    assert [o.kind for o in graph.ops] == ["FULLY_CONNECTED"] * 10
    assert [o.attr("activation") for o in graph.ops] == ["RELU"] * 9 + ["NONE"]


@pytest.mark.parametrize("key,macs,params", [("vww", 7489664, 210852),
                                             ("ic", 12501632, 77708), ("ad", 264192, 265864)])
def test_mlperf_tiny_h5_macs_and_params_match_the_manifest(key, macs, params):
    """MANIFEST.md's counts for the released .tflite twins (BatchNorm folded away)."""
    info = api.inspect(shared_model(REAL[key][0]))
    assert (info["macs"], info["params_bytes"] // 4) == (macs, params)
