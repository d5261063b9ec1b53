"""TensorFlow's converter on a plain function: the .tflite models the op tests build here.

`convert(fn, shapes, mode)` traces `fn` over float32 inputs of `shapes` and converts it as
float32, int8 (full-integer, int8 input and output) or int16 (16x8: int16 activations, int8
weights), calibrated on a seeded representative set of `low`..`high` uniform values.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from oplab import assert_close, assert_exact, random_inputs
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor
from toolchain.verify.tflm import run_tflm

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
MODES = ("float32", "int8", "int16")


def tf():
    return pytest.importorskip("tensorflow")


def convert(fn, shapes, mode: str = "int8", seed: int = 0, low=-1.0, high=1.0) -> bytes:
    t = tf()
    module = t.Module()
    module.f = t.function(fn, input_signature=[t.TensorSpec(s, t.float32) for s in shapes])
    conv = t.lite.TFLiteConverter.from_concrete_functions([module.f.get_concrete_function()],
                                                           module)
    return quantized(conv, shapes, mode, seed, low, high).convert()


def convert_keras(model, mode: str = "int8", io: str | None = None, seed: int = 0) -> bytes:
    """A Keras model (batch size fixed by its Input) converted as `convert` converts a
    function; `io` overrides the model's input and output dtype (e.g. "uint8")."""
    conv = tf().lite.TFLiteConverter.from_keras_model(model)
    shapes = [tuple(i.shape) for i in model.inputs]
    return quantized(conv, shapes, mode, seed, -1.0, 1.0, io).convert()


def quantized(conv, shapes, mode: str, seed: int, low: float, high: float, io=None):
    """The converter set for `mode`: float32 as it is; int8 (full integer) or int16 (16x8)
    calibrated on 16 seeded uniform samples, with `io` (default: the mode) inputs/outputs."""
    t = tf()
    if mode == "float32":
        return conv
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(16):
            yield [rng.uniform(low, high, s).astype(np.float32) for s in shapes]
    ops = t.lite.OpsSet
    conv.optimizations = [t.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [
        ops.TFLITE_BUILTINS_INT8 if mode == "int8"
        else ops.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv.inference_input_type = conv.inference_output_type = getattr(t, io or mode)
    return conv


def op_kinds(model: bytes) -> list[str]:
    """The builtin operator names of a .tflite model, in execution order."""
    return [op.kind for op in load_tflite(model).ops]


def same(want, got, label: str, atol: float | None = None) -> None:
    """Exact (ints, and floats when atol is None) or within atol; every mismatch printed."""
    got = np.asarray(got).reshape(np.shape(want))
    if atol is not None and np.asarray(want).dtype.kind == "f":
        assert_close(want, got, atol, label)
    else:
        assert_exact(want, got, label)


def check_model(model: bytes, rng, executors=("host",), atol: float | None = None,
                target: str = "cortex-m4", inputs=None):
    """The reference equals TFLite Micro on the converter's file and on the file fitml writes
    back, and each of `executors` ("host", "qemu") runs the generated C to the same outputs.
    Returns (graph, inputs, reference outputs)."""
    graph = load_tflite(model)
    inputs = random_inputs(graph, rng) if inputs is None else inputs
    ref = run_graph(graph, inputs)
    runs = [("tflm", run_tflm(model, inputs)),
            ("tflm on the written file", run_tflm(write_tflite(graph), inputs))]
    for name in executors:
        options = dict(target=target) if name == "qemu" else {}
        runs.append((name, get_executor(name)(graph, inputs, **options).outputs))
    for name, outs in runs:
        assert len(outs) == len(ref), f"{name}: {len(outs)} outputs, expected {len(ref)}"
        for i, (want, got) in enumerate(zip(ref, outs)):
            same(want, got, f"{name} output {i}", atol)
    return graph, inputs, ref
