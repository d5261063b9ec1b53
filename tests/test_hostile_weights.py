"""Float weights holding NaN or infinity (issue #13) are refused at load by every frontend
(one graph check, toolchain/ops/finite_constants.py): exit 2 and one stderr line naming the
file and the tensor, instead of a model that compiles and computes non-finite outputs. Every
model is generated here: a valid one, then one weight poisoned."""
from __future__ import annotations

import shutil

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from cli_util import fitml
from conftest import shared_model
from fuzz_seeds import make_h5, make_onnx
from test_hostile_numbers import edited_tflite, refused

POISONS = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}


def _poison_tflite(src, dst, value):
    def edit(model):
        sub = model.subgraphs[0]
        for t in sub.tensors:
            buf = model.buffers[t.buffer]
            if t.type == 0 and buf.data is not None and len(buf.data) >= 4:   # FLOAT32
                arr = np.frombuffer(bytes(buf.data), np.float32).copy()
                arr[-1] = value
                buf.data = np.frombuffer(arr.tobytes(), np.uint8)
                return
        raise AssertionError("no float constant")
    return edited_tflite(src, dst, edit)


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_tflite_non_finite_weight(tmp_path, poison):
    bad = _poison_tflite(shared_model("tflm/hello_world_float.tflite"), tmp_path / "w.tflite",
                         POISONS[poison])
    refused(fitml("inspect", bad), str(bad), "constant", "must be finite")


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_onnx_non_finite_weight(tmp_path, poison):
    good = tmp_path / "seed.onnx"
    make_onnx(good)
    model = onnx.load(str(good))
    init = next(i for i in model.graph.initializer if i.name == "fc_w")
    values = numpy_helper.to_array(init).copy()
    values.flat[5] = POISONS[poison]
    init.CopyFrom(numpy_helper.from_array(values, "fc_w"))
    bad = tmp_path / "w.onnx"
    onnx.save(model, str(bad))
    refused(fitml("inspect", bad), str(bad), "'fc_w'", "must be finite")
    assert fitml("inspect", good).returncode == 0


def test_h5_non_finite_weight(tmp_path):
    pytest.importorskip("tf_keras")
    good, bad = tmp_path / "seed.h5", tmp_path / "w.h5"
    make_h5(good)
    shutil.copy(good, bad)
    import h5py
    with h5py.File(bad, "r+") as f:
        kernel = f["model_weights/fc/fc/kernel:0"]
        values = kernel[()]
        values[0, 0] = np.nan
        kernel[...] = values
    refused(fitml("inspect", bad, timeout=300), str(bad), "fc/kernel", "must be finite")
