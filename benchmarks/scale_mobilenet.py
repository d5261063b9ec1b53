"""The float MobileNetV2-1.0 224 two ways, for benchmarks/scale.py (each run in its own
process by scale_stages.py, the network built before the clock starts):

- `fitml`: the PyTorch network (tests/torch_mobilenet.py) -> torch.export -> fitml graph ->
  int8 PTQ on 32 calibration images -> C for the target -> host C (gcc, ASan/UBSan) run and
  compared bit-exact with the int8 reference: verified int8 C;
- `tflite`: the same architecture in Keras (keras.applications.MobileNetV2, random weights,
  nothing downloaded) -> TFLiteConverter full-int8 on 32 calibration images (the converter
  alone: no C, no verification).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

CALIBRATION = 32


def fitml(steps, target: str) -> None:
    import torch_mobilenet as tm

    from toolchain import api
    from toolchain.verify.ladder import random_inputs
    from toolchain.ops.interpreter import run_graph
    model, example = tm.mobilenet_v2(), tm.example_input()
    calib = tm.calibration_nhwc(CALIBRATION)
    steps.restart()
    graph = api.load(model, (example,))
    steps.lap("torch_export_load")
    q = api.quantize(graph, calib)
    steps.lap("ptq")
    with tempfile.TemporaryDirectory() as d:
        api.compile(q, target, Path(d) / "out")
        steps.lap("compile")
    x = random_inputs(q, 1, seed=0)[0]
    ref = run_graph(q, x)
    host = api.run(q, x, executor="host").outputs
    steps.lap("verify_host", ok=all(np.array_equal(r, h) for r, h in zip(ref, host)))
    steps.total("total")


def tflite(steps, target: str) -> None:
    import tensorflow as tf
    model = tf.keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=1.0,
                                              weights=None)
    rng = np.random.default_rng(1)
    calib = rng.uniform(-1, 1, (CALIBRATION, 1, 224, 224, 3)).astype(np.float32)
    steps.restart()
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([c] for c in calib)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    blob = conv.convert()
    steps.lap("tflite_convert", bytes=len(blob))
    steps.total("total")
