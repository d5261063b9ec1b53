"""TFLite reader details: uint8 (legacy) I/O models, the uint8-kernel rejection, metadata."""
from __future__ import annotations

import numpy as np

import oplab
from cli_util import fitml, one_clear_line
from toolchain.backends.tflite import write_tflite
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, Op
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm


def uint8_io_graph(rng) -> Graph:
    """uint8 input -> QUANTIZE -> int8 FC -> QUANTIZE -> uint8 output (the converter's shape
    of a model with inference_input_type=tf.uint8)."""
    x = oplab.act("x", (1, 16), "uint8", scale=0.05, zp=128)
    xi = oplab.act("xi", (1, 16), "int8", scale=0.05, zp=0)
    w = oplab.const("w", rng.integers(-127, 128, (8, 16)).astype(np.int8),
                    scale=rng.uniform(0.01, 0.02, 8).astype(np.float32), axis=0)
    b = oplab.const("b", rng.integers(-500, 500, 8).astype(np.int32),
                    scale=np.float32(0.05) * w.quant.scale, axis=0)
    y = oplab.act("y", (1, 8), "int8", scale=0.3, zp=-3)
    yu = oplab.act("yu", (1, 8), "uint8", scale=0.3, zp=125)
    ops = [Op("QUANTIZE", ["x"], ["xi"]),
           Op("FULLY_CONNECTED", ["xi", "w", "b"], ["y"], {"activation": "NONE"}),
           Op("QUANTIZE", ["y"], ["yu"], {"dtype": "uint8"})]
    return Graph.build([x, xi, w, b, y, yu], ops, ["x"], ["yu"]).validate()


def test_uint8_io_model_reads_and_matches_tflm():
    rng = np.random.default_rng(3)
    blob = write_tflite(uint8_io_graph(rng))
    graph = load_tflite(blob)
    assert graph.tensors[graph.inputs[0]].dtype == "uint8"
    assert graph.tensors[graph.outputs[0]].dtype == "uint8"
    for seed in range(25):
        x = np.random.default_rng(seed).integers(0, 256, (1, 16)).astype(np.uint8)
        oplab.assert_exact(run_tflm(blob, [x])[0], run_graph(graph, [x])[0], f"seed {seed}")


def test_legacy_uint8_kernel_is_rejected_clearly(tmp_path):
    rng = np.random.default_rng(4)
    x = oplab.act("x", (1, 16), "uint8", scale=0.05, zp=128)
    w = oplab.const("w", rng.integers(0, 256, (8, 16)).astype(np.uint8), scale=0.01, zp=120)
    y = oplab.act("y", (1, 8), "uint8", scale=0.3, zp=120)
    graph = Graph.build([x, w, y], [Op("FULLY_CONNECTED", ["x", "w"], ["y"])], ["x"], ["y"])
    path = tmp_path / "legacy.tflite"
    path.write_bytes(write_tflite(graph))
    proc = fitml("inspect", path)
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "FULLY_CONNECTED" in line and "uint8" in line and "node 0" in line


def test_metadata_records_source_name_not_path(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(write_tflite(uint8_io_graph(np.random.default_rng(1))))
    graph = load_tflite(path)
    assert graph.metadata["source"] == "m.tflite" and graph.metadata["format"] == "tflite"
