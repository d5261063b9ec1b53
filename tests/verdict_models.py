"""Models for the check-versus-build verdict tests, built with the TensorFlow converter: an
int8 anomaly-detection CNN (conv and depthwise conv over a spectrogram) sized so that its first
layers must run patch by patch on nucleo-l476rg (96 KB SRAM1 + 32 KB SRAM2)."""
from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def ad_cnn(height: int, width: int, channels: int = 16, seed: int = 0) -> bytes:
    """An int8 .tflite conv / depthwise CNN over a height x width x 1 spectrogram: a stride-1
    conv of `channels` maps (the big activations), depthwise-separable blocks down to a dense
    anomaly score."""
    import tensorflow as tf  # lazy: heavy, only the tests that build models need it
    tf.keras.utils.set_random_seed(seed)
    L = tf.keras.layers
    inp = tf.keras.Input((height, width, 1), batch_size=1)
    x = L.Conv2D(channels, 3, padding="same", activation="relu")(inp)
    x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(x)
    x = L.Conv2D(channels * 2, 1, activation="relu")(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(x)
    x = L.Conv2D(channels * 2, 1, activation="relu")(x)
    x = L.GlobalAveragePooling2D(keepdims=True)(x)
    model = tf.keras.Model(inp, L.Dense(4)(L.Flatten()(x)))
    rng = np.random.default_rng(seed)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: (
        [rng.uniform(-1, 1, (1, height, width, 1)).astype(np.float32)] for _ in range(8))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    return conv.convert()
