"""Metadata quirks TFLite Micro tolerates (frontends/tflite_quirks.py), starting with a widely
used MobileNetV1's 1-D per-channel biases whose quantization says `quantized_dimension = 3`:
fitml accepts the file with one warning line on stderr and stays bit-exact with TFLM running
that very file. Other out-of-range quantized dimensions are still refused by name."""
from __future__ import annotations

import os

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from tf_convert import convert_keras
from cli_util import fitml, one_clear_line
from toolchain.api import verify
from toolchain.frontends.tflite import load_tflite

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HW = (10, 10, 3)


def converter_int8() -> bytes:
    """Conv, depthwise and dense with per-channel int8 weights and int32 biases."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(11)
    L = tf.keras.layers
    inp = tf.keras.Input(HW, batch_size=1)
    x = L.Conv2D(8, 3, padding="same", activation="relu", bias_initializer="glorot_uniform")(inp)
    x = L.DepthwiseConv2D(3, strides=2, bias_initializer="glorot_uniform")(x)
    model = tf.keras.Model(inp, L.Dense(6, bias_initializer="glorot_uniform")(L.Flatten()(x)))
    return convert_keras(model, "int8")


def rewrite(blob: bytes, pick, dimension: int) -> tuple[bytes, int]:
    """The model with `quantizedDimension = dimension` on every tensor `pick` selects (the
    flatbuffer object API), and how many tensors it changed."""
    model = schema.ModelT.InitFromPackedBuf(blob, 0)
    changed = 0
    for t in model.subgraphs[0].tensors:
        q = t.quantization
        if q is not None and q.scale is not None and len(q.scale) > 1 and pick(t):
            q.quantizedDimension = dimension
            changed += 1
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), changed


def is_bias(t) -> bool:
    return len(t.shape) == 1 and t.type == schema.TensorType.INT32


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(original path, quirky path, biases rewritten, 4-D filter rewritten path)."""
    folder = tmp_path_factory.mktemp("quirks")
    blob = converter_int8()
    quirky, changed = rewrite(blob, is_bias, 3)
    broken, _ = rewrite(blob, lambda t: len(t.shape) == 4, 7)
    paths = [folder / n for n in ("plain.tflite", "bias_dim3.tflite", "filter_dim7.tflite")]
    for path, data in zip(paths, (blob, quirky, broken)):
        path.write_bytes(data)
    return paths[0], paths[1], changed, paths[2]


def test_three_biases_carry_the_quirk(models):
    assert models[2] == 3


def test_accepted_with_one_warning_line(models):
    _, quirky, changed, _ = models
    proc = fitml("inspect", quirky)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"fitml: warning: {quirky}: tensor ") and \
        f"and {changed - 1} more" in lines[0] and "quantized_dimension 3" in lines[0] and \
        "TFLite Micro ignores" in lines[0], lines[0]
    assert fitml("inspect", models[0]).stderr.strip() == ""     # no quirk, no warning


def test_values_unchanged(models):
    plain, quirky = load_tflite(str(models[0])), load_tflite(str(models[1]))
    assert "quirks" in quirky.metadata and "quirks" not in plain.metadata
    for name, t in plain.tensors.items():
        q = quirky.tensors[name]
        same_quant = t.quant is q.quant is None or (t.quant is not None and
                                                    t.quant.same_as(q.quant))
        assert (t.data is None) == (q.data is None) and same_quant, name
        if t.data is not None:
            assert np.array_equal(t.data, q.data), name


def test_bit_exact_with_tflm_on_the_quirky_file(models):
    report = verify(str(models[1]), "cortex-m4", random=3)
    for name, result in report["executors"].items():
        assert result.get("bit_exact") is True, (name, result)
    assert set(report["executors"]) == {"host", "qemu", "tflm"}


def test_other_out_of_range_dimensions_are_still_refused(models):
    proc = fitml("inspect", models[3])
    assert proc.returncode == 2
    assert "quantized dimension 7 out of range" in one_clear_line(proc)
