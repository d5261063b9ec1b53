"""Keras models built here for the Keras frontend tests (tests/test_keras_frontend_*.py): the
`libs` fixture (tf_keras = Keras 2 and Keras 3, skipped without TensorFlow), small models with
random weights and BatchNorm statistics, and the check that a graph's numpy reference and
LiteRT (running the .tflite that write_tflite emits) equal Keras's outputs within 1e-4."""
from __future__ import annotations

import os

import numpy as np
import pytest

from toolchain.backends.tflite import write_tflite
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TOL = dict(rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="session")
def libs():
    """{"tf_keras": Keras 2, "keras": Keras 3}; skipped when TensorFlow is not installed."""
    tf_keras = pytest.importorskip("tf_keras")
    return {"tf_keras": tf_keras, "keras": pytest.importorskip("keras")}


def keras_outputs(model, inputs) -> list[np.ndarray]:
    out = model([np.asarray(x) for x in inputs] if len(inputs) > 1 else inputs[0],
                training=False)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def assert_matches_keras(graph, model, inputs) -> None:
    """Reference and LiteRT outputs of `graph` equal Keras's within 1e-4."""
    expected = keras_outputs(model, inputs)
    got = run_graph(graph, inputs)
    lite = run_litert(write_tflite(graph), inputs)
    assert len(got) == len(expected) == len(lite)
    for e, g, li in zip(expected, got, lite):
        assert g.shape == e.shape and li.shape == e.shape
        np.testing.assert_allclose(g, e, **TOL, err_msg="reference vs Keras")
        np.testing.assert_allclose(li, e, **TOL, err_msg="LiteRT vs Keras")


def random_inputs(graph, rng, lo=-1.0, hi=1.0):
    return [rng.uniform(lo, hi, graph.tensors[n].shape).astype(np.float32)
            for n in graph.inputs]


def randomize(model, rng) -> None:
    """Random weights everywhere; BatchNorm gets positive variances and non-trivial stats."""
    for layer in model.layers:
        if hasattr(layer, "layers"):
            randomize(layer, rng)
            continue
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            *affine, mean, var = weights
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in affine]
                              + [rng.normal(0, 0.3, mean.shape), rng.uniform(0.3, 2.0, var.shape)])
        elif weights:
            layer.set_weights([rng.normal(0, 0.4, w.shape) for w in weights])


def cnn_with_bn(K):
    L = K.layers
    return K.Sequential([
        K.Input((12, 10, 3)),
        L.Conv2D(8, 3, padding="same", use_bias=False), L.BatchNormalization(), L.ReLU(),
        L.MaxPooling2D(2),
        L.Conv2D(6, (3, 2), strides=2, padding="valid"), L.BatchNormalization(),
        L.Activation("relu6"),
        L.AveragePooling2D(2, strides=1, padding="same"),
        L.Flatten(), L.Dropout(0.5), L.Dense(5, activation="softmax")])


def residual(K):
    L = K.layers
    x = K.Input((8, 8, 4), name="image")
    y = L.Conv2D(4, 3, padding="same")(x)
    y = L.BatchNormalization()(y)
    y = L.Activation("relu")(y)
    y = L.Conv2D(4, 3, padding="same", dilation_rate=2)(y)
    y = L.BatchNormalization()(y)
    y = L.Add()([x, y])
    y = L.ReLU(max_value=6)(y)
    y = L.BatchNormalization()(y)                     # after ADD: stays MUL + ADD
    y = L.GlobalAveragePooling2D()(y)
    return K.Model(x, L.Dense(3, activation="tanh")(y))


def separable(K):
    L = K.layers
    x = K.Input((9, 9, 4))
    y = L.ZeroPadding2D(((1, 0), (2, 1)))(x)
    y = L.SeparableConv2D(6, 3, depth_multiplier=2, activation="relu")(y)
    y = L.DepthwiseConv2D(3, depth_multiplier=2, dilation_rate=2, padding="same",
                          use_bias=False)(y)
    y = L.BatchNormalization()(y)
    y = L.Conv2D(4, 1, groups=4, activation="sigmoid")(y)
    y = L.GlobalMaxPooling2D()(y)
    return K.Model(x, y)


def branches(K):
    """Two inputs, two outputs, merges, a shared layer and a nested Sequential."""
    L = K.layers
    a, b = K.Input((6, 6, 3), name="left"), K.Input((6, 6, 3), name="right")
    shared = L.Conv2D(4, 1, activation="relu")
    sa, sb = shared(a), shared(b)
    cat = L.Concatenate()([sa, sb, L.Conv2D(2, 3, padding="same")(a)])
    diff = L.Subtract()([sa, sb])
    mixed = L.Multiply()([L.Average()([sa, sb, diff]), sa])
    inner = K.Sequential([K.Input((6, 6, 4)), L.Conv2D(3, 2), L.BatchNormalization(),
                          L.Activation("swish")], name="inner")
    nested = inner(mixed)
    head = L.Dense(2, activation="hard_sigmoid")(L.Reshape((-1,))(nested))
    return K.Model([a, b], [cat, head, nested])


def dense_rank3(K):
    """Dense on [N, 5, F], and a nested Functional block called twice."""
    L = K.layers
    i = K.Input((5, 6))
    block = K.Model(i, L.Dense(6, activation="tanh")(L.BatchNormalization()(i)), name="block")
    x = K.Input((5, 7))
    twice = block(block(L.Dense(6)(x)))
    y = L.Dense(4)(twice)
    y = L.Permute((2, 1))(y)
    y = L.GlobalAveragePooling1D()(y)
    y = L.Rescaling(0.5, offset=0.25)(y)
    return K.Model(x, [L.Softmax()(L.Dense(3, activation="relu")(y)), twice])


def transfer(K):
    """A Functional base model as the first layer of a Sequential."""
    L = K.layers
    i = K.Input((7, 7, 2))
    base = K.Model(i, L.Conv2D(5, 3, strides=2, padding="same", activation="relu")(i))
    return K.Sequential([base, L.GlobalAveragePooling2D(keepdims=True), L.Flatten(),
                         L.Dense(3)])


def upsample(K):
    """UpSampling2D nearest (2x3) and bilinear (2x2, half-pixel centres)."""
    L = K.layers
    x = K.Input((3, 4, 2))
    y = L.Conv2D(3, 1)(x)
    near = L.UpSampling2D((2, 3))(y)
    bilinear = L.UpSampling2D(2, interpolation="bilinear")(L.Conv2D(3, 3, padding="same")(x))
    return K.Model(x, [near, bilinear])


BUILDERS = {f.__name__: f for f in (cnn_with_bn, residual, separable, branches, dense_rank3,
                                    transfer, upsample)}
