"""Keras Embedding (Keras 2 .h5 and Keras 3 .keras; float ids as Keras Input gives them) loads
as CAST, RESHAPE, EMBEDDING_LOOKUP, RESHAPE and equals Keras (reference and LiteRT), and the
written file equals TFLite Micro (and host C); mask_zero is refused by name."""
from __future__ import annotations

import numpy as np
import pytest

import converted_ops as co
from keras_builders import assert_matches_keras, libs  # noqa: F401 (fixture)
from toolchain.backends.tflite import write_tflite
from toolchain.errors import ModelError
from toolchain.frontends.keras import load_keras


def embedding_model(K, mask_zero=False):
    x = K.Input((6,))
    e = K.layers.Embedding(20, 4, mask_zero=mask_zero,
                           embeddings_initializer=K.initializers.RandomUniform(-1, 1))(x)
    y = K.layers.Dense(3)(K.layers.Flatten()(e))
    return K.Model(x, [e, y])


@pytest.mark.parametrize("lib,suffix", [("tf_keras", ".h5"), ("keras", ".keras")])
def test_keras_embedding_equals_keras_and_tflm(libs, tmp_path, lib, suffix):  # noqa: F811
    model = embedding_model(libs[lib])
    path = tmp_path / f"embedding{suffix}"
    model.save(path)
    graph = load_keras(path)
    assert "EMBEDDING_LOOKUP" in [op.kind for op in graph.ops], [op.kind for op in graph.ops]
    ids = [np.array([[0, 19, 3, 3, 7.0, 12]], np.float32)]
    assert_matches_keras(graph, model, ids)
    written = co.Model(graph, write_tflite(graph), [ids])
    co.check_tflm(written)
    if lib == "keras":
        co.check_c(written, "host", None)


def test_mask_zero_is_refused(libs, tmp_path):  # noqa: F811
    path = tmp_path / "masked.keras"
    embedding_model(libs["keras"], mask_zero=True).save(path)
    with pytest.raises(ModelError, match="Embedding.*mask_zero=True is not supported"):
        load_keras(path)
