"""LSTM models built here with Keras and TensorFlow's converter (no blobs in the repo): an int8
keyword-spotting LSTM and a noise-suppression model with two stacked LSTMs and a LOGISTIC mask;
a small streaming LSTM, float32 and int8.

tf_keras (Keras 2) is used because its LSTM layer converts to one fused
UNIDIRECTIONAL_SEQUENCE_LSTM (Keras 3's becomes a WHILE loop, and its int8 calibration crashes
TF 2.21); the scheme is that of TFLM's own mnist_lstm example: full-integer quantization with a
representative dataset, int8 input and output, int16 cell state. Weights are Keras' seeded
initial ones (untrained), which exercises the arithmetic as well as trained ones.
"""
from __future__ import annotations

import functools
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

KWS_SHAPE = (49, 10)            # 49 frames of 10 MFCCs, as the MLPerf Tiny KWS input
NS_SHAPE = (16, 40)             # 16 frames of 40 spectral bins


def _keras():
    pytest.importorskip("tensorflow")
    return pytest.importorskip("tf_keras")


def _convert(model, shape: tuple[int, int], seed: int, int8: bool = True) -> bytes:
    import tensorflow as tf     # lazy: heavy, optional (importorskip in _keras)
    run = tf.function(lambda x: model(x))
    fn = run.get_concrete_function(tf.TensorSpec([1, *shape], tf.float32))
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn], model)
    if not int8:
        return conv.convert()
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(16):
            yield [rng.uniform(-1, 1, (1, *shape)).astype(np.float32)]
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


@functools.lru_cache(maxsize=None)
def kws_lstm(units: int = 64) -> bytes:
    """49x10 features -> LSTM(units) -> Dense(12) -> softmax."""
    k = _keras()
    k.utils.set_random_seed(1)
    inp = k.Input(KWS_SHAPE, batch_size=1)
    out = k.layers.Dense(12, activation="softmax")(k.layers.LSTM(units)(inp))
    return _convert(k.Model(inp, out), KWS_SHAPE, seed=0)


@functools.lru_cache(maxsize=None)
def noise_suppression(units: int = 64) -> bytes:
    """16x40 spectrum -> LSTM(units) -> LSTM(units) -> Dense(40) -> sigmoid mask per frame."""
    k = _keras()
    k.utils.set_random_seed(2)
    inp = k.Input(NS_SHAPE, batch_size=1)
    x = k.layers.LSTM(units, return_sequences=True)(inp)
    x = k.layers.LSTM(units, return_sequences=True)(x)
    out = k.layers.Dense(NS_SHAPE[1], activation="sigmoid")(x)
    return _convert(k.Model(inp, out), NS_SHAPE, seed=1)


STREAM_SHAPE = (4, 6)           # a chunk of 4 frames of 6 features per invoke


@functools.lru_cache(maxsize=None)
def streaming_lstm(int8: bool) -> bytes:
    """4x6 frames -> LSTM(10, return_sequences) -> Dense(3): a streaming model fed one chunk
    per invoke, its LSTM state carried over (float32, or int8 by full-integer PTQ)."""
    k = _keras()
    k.utils.set_random_seed(3)
    inp = k.Input(STREAM_SHAPE, batch_size=1)
    out = k.layers.Dense(3)(k.layers.LSTM(10, return_sequences=True)(inp))
    return _convert(k.Model(inp, out), STREAM_SHAPE, seed=2, int8=int8)


GENERATED = {"kws_lstm": kws_lstm, "noise_suppression": noise_suppression}
