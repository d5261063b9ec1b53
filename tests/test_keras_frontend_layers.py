"""Keras frontend on small models built here with tf_keras (Keras 2) and Keras 3, saved as .h5
and .keras with random weights and BatchNorm statistics (convs, separable and depthwise convs,
residuals, branches with shared layers, nested models, Dense on rank 3, upsampling,
activations): the float graph equals Keras's outputs (reference and LiteRT within 1e-4), with
and without cleanup; BatchNorm folded and activations fused where they can be."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from toolchain.frontends.keras import load_keras
from keras_builders import (BUILDERS, assert_matches_keras, cnn_with_bn, random_inputs, randomize,
                            residual)
from keras_builders import libs  # noqa: F401 (fixture)


SAVES = [("tf_keras", ".h5"), ("tf_keras", ".keras"), ("keras", ".keras"), ("keras", ".h5")]


@pytest.mark.parametrize("lib,suffix", SAVES, ids=[f"{a}{b}" for a, b in SAVES])
@pytest.mark.parametrize("build", sorted(BUILDERS))
def test_small_models_equal_keras(libs, tmp_path, build, lib, suffix):
    rng = np.random.default_rng(sorted(BUILDERS).index(build))
    model = BUILDERS[build](libs[lib])
    randomize(model, rng)
    path = tmp_path / f"{build}{suffix}"
    model.save(path)
    graph = load_keras(path)
    for _ in range(2):
        assert_matches_keras(graph, model, random_inputs(graph, rng, -2, 2))
    literal = load_keras(path, cleanup=False)
    assert_matches_keras(literal, model, random_inputs(graph, rng, -2, 2))


def test_batchnorm_folded_and_activations_fused(libs, tmp_path):
    model = cnn_with_bn(libs["tf_keras"])
    model.save(tmp_path / "cnn.h5")
    kinds = [(o.kind, o.attr("activation")) for o in load_keras(tmp_path / "cnn.h5").ops]
    assert kinds == [("CONV_2D", "RELU"), ("MAX_POOL_2D", "NONE"), ("CONV_2D", "RELU6"),
                     ("AVERAGE_POOL_2D", "NONE"), ("RESHAPE", None),
                     ("FULLY_CONNECTED", "NONE"), ("SOFTMAX", None)]
    literal = Counter(o.kind for o in load_keras(tmp_path / "cnn.h5", cleanup=False).ops)
    assert literal["MUL"] == literal["ADD"] == 2 and literal["RELU"] == 1


def test_batchnorm_after_add_stays_mul_add(libs, tmp_path):
    model = residual(libs["tf_keras"])
    randomize(model, np.random.default_rng(3))
    model.save(tmp_path / "res.h5")
    ops = load_keras(tmp_path / "res.h5").ops
    assert [o.kind for o in ops if o.kind in ("CONV_2D", "ADD", "MUL")] == [
        "CONV_2D", "CONV_2D", "ADD", "MUL", "ADD"]
    assert ops[2].attr("activation") == "RELU6"      # ReLU(max_value=6) fused into the ADD


def activations(K):
    L = K.layers
    x = K.Input((4, 6))
    y = L.LeakyReLU()(L.Dense(6)(x))
    y = L.Activation("hard_sigmoid")(y)
    y = L.ReLU(negative_slope=0.1)(L.Dense(5, activation="sigmoid")(y))
    y = L.Dense(5, activation="leaky_relu")(y)
    if K.__name__ == "keras":
        y = L.Dense(4, activation="hard_swish")(y)
    return K.Model(x, L.Dense(3, activation="swish")(y))


@pytest.mark.parametrize("lib", ["tf_keras", "keras"])
def test_activations_equal_keras(libs, tmp_path, lib):
    rng = np.random.default_rng(11)
    model = activations(libs[lib])
    randomize(model, rng)
    model.save(tmp_path / "act.keras")
    graph = load_keras(tmp_path / "act.keras")
    assert_matches_keras(graph, model, random_inputs(graph, rng, -3, 3))
    kinds = {o.kind for o in graph.ops}
    assert {"LEAKY_RELU", "LOGISTIC", "MUL"} <= kinds
    assert ("HARD_SWISH" in kinds) == (lib == "keras")
