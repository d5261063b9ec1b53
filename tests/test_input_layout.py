"""Layout TRANSPOSEs of converted models. --input-layout nhwc (passes/input_layout.py): an
NCHW input that the model transposes to NHWC first is fed NHWC and the TRANSPOSE goes; the
input's new shape shows in report.json and model.h, and verify compares against TFLite Micro
running the original file on NCHW inputs. Transposes that cancel, or that only reorder an FC's
columns, leave an int8 .tflite as they leave the other frontends' graphs.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import oplab
from cli_util import fitml, one_clear_line
from toolchain.api import load
from toolchain.backends.tflite import write_tflite
from toolchain.errors import UsageError
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, Op
from toolchain.ops.interpreter import run_graph
from toolchain.passes.input_layout import layout_info, nhwc_inputs
from toolchain.verify.tflm import run_tflm

NCHW = (1, 3, 9, 8)


def nchw_model(rng) -> Graph:
    """int8 NCHW input -> TRANSPOSE to NHWC -> PAD -> 3x3 stride-2 conv (as PyTorch exports)."""
    x = oplab.act("x", NCHW, scale=0.02, zp=-14)
    perm = oplab.const("perm", np.asarray([0, 2, 3, 1], np.int32))
    t = x.replace(name="x_nhwc", shape=(1, 9, 8, 3))
    pads = oplab.const("pads", np.asarray([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32))
    p = t.replace(name="x_pad", shape=(1, 11, 10, 3))
    scales = rng.uniform(0.002, 0.01, 4).astype(np.float32)
    w = oplab.const("w", rng.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8), scales, axis=0)
    b = oplab.const("b", rng.integers(-500, 500, 4).astype(np.int32), scales * 0.02, axis=0)
    attrs = dict(padding="VALID", stride=(2, 2), activation="RELU6")
    y = oplab.out_like("CONV_2D", [p, w, b], attrs, "y", scale=0.05, zp=-128)
    ops = [Op("TRANSPOSE", ["x", "perm"], ["x_nhwc"]), Op("PAD", ["x_nhwc", "pads"], ["x_pad"]),
           Op("CONV_2D", ["x_pad", "w", "b"], ["y"], attrs)]
    return Graph.build([x, perm, t, pads, p, w, b, y], ops, ["x"], ["y"]).validate()


def test_nhwc_input_drops_the_transpose(rng):
    graph = nchw_model(rng)
    nhwc = nhwc_inputs(graph).validate()
    assert nhwc.inputs == ("x_nhwc",) and "TRANSPOSE" not in {op.kind for op in nhwc.ops}
    assert layout_info(nhwc) == {"layout": "nhwc", "inputs": [
        {"input": "x_nhwc", "shape": [1, 9, 8, 3], "was": "x", "nchw_shape": list(NCHW)}]}
    x = oplab.random_inputs(graph, rng)[0]
    oplab.assert_exact(run_graph(graph, [x])[0],
                       run_graph(nhwc, [np.ascontiguousarray(x.transpose(0, 2, 3, 1))])[0])


def test_default_keeps_the_transpose_and_nhwc_models_are_refused(tmp_path, rng):
    path = tmp_path / "m.tflite"
    path.write_bytes(write_tflite(nchw_model(rng)))
    assert [op.kind for op in load(path).ops] == ["TRANSPOSE", "CONV_2D"]   # PAD folded
    plain = load(path, input_layout="nhwc")
    with pytest.raises(UsageError, match="--input-layout nhwc: no model input is NCHW"):
        nhwc_inputs(plain)
    with pytest.raises(UsageError, match="supported: nhwc"):
        load(path, input_layout="nchw")


def test_cli_compile_verify_inspect_with_nhwc_input(tmp_path, rng):
    path = tmp_path / "m.tflite"
    path.write_bytes(write_tflite(nchw_model(rng)))
    out = tmp_path / "c"
    proc = fitml("compile", path, "--target", "cortex-m4", "-o", out, "--input-layout", "nhwc")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["input_layout"]["inputs"][0]["nchw_shape"] == list(NCHW)
    assert {o["kind"] for o in report["ops"]} == {"CONV_2D"}
    header = (out / "model.h").read_text()
    assert "MODEL_INPUT0_DIMS { 1, 9, 8, 3 }" in header
    assert "NHWC (--input-layout nhwc): the model file's input is NCHW [1, 3, 9, 8]" in header
    proc = fitml("verify", path, "--input-layout", "nhwc", "--random", "2", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    executors = json.loads(proc.stdout)["executors"]
    assert set(executors) == {"host", "qemu", "tflm"}      # TFLM: the original file, NCHW
    assert all(r["bit_exact"] for r in executors.values()), executors
    proc = fitml("inspect", path, "--input-layout", "nhwc", "--json")
    assert json.loads(proc.stdout)["inputs"][0]["shape"] == [1, 9, 8, 3]
    again = fitml("verify", out / "model.tflite", "--input-layout", "nhwc")
    assert again.returncode == 2 and "--input-layout nhwc" in one_clear_line(again)


def test_int8_transposes_cancel_and_fold_into_fc(rng):
    """A converted model's NHWC -> NCHW -> NHWC round trip cancels and its NCHW flatten before
    FULLY_CONNECTED becomes a permutation of the weight columns: no TRANSPOSE is left, and the
    result equals TFLM running the original .tflite."""
    x = oplab.act("x", (1, 4, 4, 8), scale=0.03, zp=3)
    to_nchw, to_nhwc = (oplab.const(n, np.asarray(p, np.int32)) for n, p in
                        (("to_nchw", [0, 3, 1, 2]), ("to_nhwc", [0, 2, 3, 1])))
    a, b = x.replace(name="a", shape=(1, 8, 4, 4)), x.replace(name="b")
    s_w = rng.uniform(0.002, 0.01, 8).astype(np.float32)
    w = oplab.const("w", rng.integers(-127, 128, (8, 1, 1, 8)).astype(np.int8), s_w, axis=0)
    y = oplab.out_like("CONV_2D", [b, w, None], dict(padding="VALID"), "y", 0.05, -2)
    c = y.replace(name="c", shape=(1, 8, 4, 4))
    shape = oplab.const("shape", np.asarray([1, 128], np.int32))
    flat = y.replace(name="flat", shape=(1, 128))
    s_f = rng.uniform(0.001, 0.004, 10).astype(np.float32)
    fw = oplab.const("fw", rng.integers(-127, 128, (10, 128)).astype(np.int8), s_f, axis=0)
    out = oplab.out_like("FULLY_CONNECTED", [flat, fw, None], {}, "out", 0.1, 1)
    ops = [Op("TRANSPOSE", ["x", "to_nchw"], ["a"]), Op("TRANSPOSE", ["a", "to_nhwc"], ["b"]),
           Op("CONV_2D", ["b", "w", ""], ["y"], dict(padding="VALID")),
           Op("TRANSPOSE", ["y", "to_nchw"], ["c"]),
           Op("RESHAPE", ["c", "shape"], ["flat"], dict(new_shape=(1, 128))),
           Op("FULLY_CONNECTED", ["flat", "fw", ""], ["out"])]
    raw = Graph.build([x, to_nchw, to_nhwc, a, b, w, y, c, shape, flat, fw, out], ops, ["x"],
                      ["out"]).validate()
    blob = write_tflite(raw)
    clean = load_tflite(blob)
    assert [op.kind for op in clean.ops] == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED"]
    for inputs in (oplab.random_inputs(raw, rng) for _ in range(3)):
        oplab.assert_exact(run_tflm(blob, inputs)[0], run_graph(clean, inputs)[0])
