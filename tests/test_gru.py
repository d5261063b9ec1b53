"""A GRU keyword-spotting model from Keras and TensorFlow's converter runs bit-exact in the
reference, TFLite Micro, the generated C on the host and under QEMU.

tf_keras' GRU with unroll=True converts to plain builtins (TFLite has no fused GRU): per frame
UNPACK / SPLIT / SPLIT_V, FULLY_CONNECTED, LOGISTIC, TANH, MUL, SUB and ADD. Models are built
once per module with Keras' seeded initial weights (untrained, which exercises the arithmetic
as well as trained ones) and full-integer int8 quantization on a seeded representative set.
"""
from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest

from tf_convert import check_model, op_kinds
from toolchain.errors import ModelError
from toolchain.frontends.tflite import load_tflite

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
KWS_SHAPE = (49, 10)            # 49 frames of 10 MFCCs, as the MLPerf Tiny KWS input
STACK_SHAPE = (12, 20)


def _convert(model, shape, mode: str, seed: int) -> bytes:
    import tensorflow as tf     # lazy: heavy, optional (importorskip in the fixtures)
    run = tf.function(lambda x: model(x))
    fn = run.get_concrete_function(tf.TensorSpec([1, *shape], tf.float32))
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn], model)
    if mode == "int8":
        rng = np.random.default_rng(seed)

        def representative():
            for _ in range(16):
                yield [rng.uniform(-1, 1, (1, *shape)).astype(np.float32)]
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = tf.int8
    return conv.convert()


def kws_gru(mode: str) -> bytes:
    """49x10 features -> GRU(32) -> Dense(12) -> softmax."""
    k = pytest.importorskip("tf_keras")
    k.utils.set_random_seed(3)
    inp = k.Input(KWS_SHAPE, batch_size=1)
    out = k.layers.Dense(12, activation="softmax")(k.layers.GRU(32, unroll=True)(inp))
    return _convert(k.Model(inp, out), KWS_SHAPE, mode, seed=0)


def stacked_gru(mode: str) -> bytes:
    """Two GRUs (the first returns its sequence), then a dense layer."""
    k = pytest.importorskip("tf_keras")
    k.utils.set_random_seed(4)
    inp = k.Input(STACK_SHAPE, batch_size=1)
    x = k.layers.GRU(24, unroll=True, return_sequences=True)(inp)
    x = k.layers.GRU(16, unroll=True)(x)
    return _convert(k.Model(inp, k.layers.Dense(8)(x)), STACK_SHAPE, mode, seed=1)


def test_reset_before_gru_is_refused_as_tflm_does():
    """reset_after=False converts with an empty SPLIT_V part, which TFLM cannot allocate."""
    k = pytest.importorskip("tf_keras")
    k.utils.set_random_seed(5)
    inp = k.Input((3, 4), batch_size=1)
    out = k.layers.GRU(4, unroll=True, reset_after=False)(inp)
    with pytest.raises(ModelError, match="SPLIT_V: size_splits .* make an empty part"):
        load_tflite(_convert(k.Model(inp, out), (3, 4), "int8", seed=2))


@pytest.fixture(scope="module")
def models():
    pytest.importorskip("tensorflow")
    return {("kws", mode): kws_gru(mode) for mode in ("int8", "float32")} | \
        {("stacked", mode): stacked_gru(mode) for mode in ("int8", "float32")}


def realistic(model: bytes, seed: int, count: int) -> list[list[np.ndarray]]:
    """Inputs as the quantized features the model saw in calibration (uniform in [-1, 1])."""
    graph = load_tflite(model)
    x = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        values = rng.uniform(-1, 1, x.shape).astype(np.float32)
        if x.dtype == "int8":
            values = np.clip(np.round(values / x.quant.s) + x.quant.zp, -128, 127)
        cases.append([values.astype(np.int8 if x.dtype == "int8" else np.float32)])
    return cases


def test_the_converter_lowers_the_gru_to_split_and_gates(models):
    kinds = Counter(op_kinds(models["kws", "int8"]))
    assert kinds["UNPACK"] == 1 and kinds["SPLIT"] + kinds["SPLIT_V"] >= 49, kinds
    assert {"FULLY_CONNECTED", "LOGISTIC", "TANH", "MUL", "SUB", "ADD"} <= set(kinds), kinds


@pytest.mark.parametrize("name", ["kws", "stacked"])
def test_int8_reference_and_host_c_equal_tflm(models, name):
    model = models[name, "int8"]
    for inputs in realistic(model, 0, 3):
        check_model(model, None, inputs=inputs)
    for seed in range(2):                   # full-range int8 inputs
        check_model(model, np.random.default_rng(seed))


@pytest.mark.parametrize("name", ["kws", "stacked"])
def test_float32_reference_and_host_c_close_to_tflm(models, name):
    model = models[name, "float32"]
    for inputs in realistic(model, 1, 2):
        check_model(model, None, inputs=inputs, atol=1e-5)


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m0"])
def test_int8_qemu_equals_tflm(models, target):
    model = models["kws", "int8"]
    check_model(model, None, executors=("qemu",), target=target,
                inputs=realistic(model, 5, 1)[0])
    if target == "cortex-m4":
        check_model(models["stacked", "int8"], np.random.default_rng(9), executors=("qemu",),
                    target=target)


def test_int8_fits_nucleo_f411re_with_shared_weights_once(models):
    """The unrolled GRU's ~100 FULLY_CONNECTED share 3 weight tensors: emitted once each
    (fitml issue #15), it fits the board's 512 KB; check counts the flash as compile emits it,
    and the portable build's constants stay below the .tflite's size."""
    from toolchain.api.compiler import c_model
    from toolchain.report.fit import fit
    model = models["kws", "int8"]
    graph = load_tflite(model)
    report = fit(graph, "nucleo-f411re")
    flash = next(r for r in report.regions if r.kind == "flash")
    portable = fit(graph, "cortex-m0", measure=False)
    print(f".tflite {len(model):,} B; nucleo-f411re flash {flash.used:,} of {flash.capacity:,} B "
          f"{report.flash_split}, {report.measurement.instructions} instructions; cortex-m0 "
          f"constants {portable.weights_bytes:,} B")
    assert report.fits, report.measurement
    built = c_model(graph, "nucleo-f411re").report["flash_split"]
    assert {k: v for k, v in report.flash_split.items() if k != "code"} == \
        {k: v for k, v in built.items() if k != "code"}
    assert portable.weights_bytes < len(model)


def test_int8_on_nucleo_f411re_equals_tflm(models):
    """On the board some layers keep their DSP arrays, the rest share plain int8 filters."""
    model = models["kws", "int8"]
    check_model(model, None, executors=("qemu",), target="nucleo-f411re",
                inputs=realistic(model, 6, 1)[0])
