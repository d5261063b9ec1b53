"""`fitml inspect` / `fitml run` per the CLI contract, several inputs and outputs, and bad
calibration data through `compile --calib`."""
from __future__ import annotations

import json

import numpy as np

import oplab
from cli_util import fitml, one_clear_line
from conftest import REPO
from toolchain.backends.tflite import write_tflite
from toolchain.ir import Graph, Op
from toolchain.ops.interpreter import run_graph
from toolchain.verify.tflm import run_tflm

EXAMPLE = REPO / "examples" / "mnist_cnn_int8.tflite"
SAMPLE = REPO / "examples" / "mnist_sample_int8.npy"


def test_inspect_json_contract():
    proc = fitml("inspect", EXAMPLE, "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert {"inputs", "outputs", "ops", "params_bytes", "macs",
            "activation_peak_naive_bytes"} <= set(info)
    assert info["inputs"][0]["shape"] == [1, 28, 28, 1] and info["inputs"][0]["dtype"] == "int8"
    assert all("kind" in op for op in info["ops"])
    assert info["macs"] == sum(op["macs"] for op in info["ops"]) > 0


def test_run_writes_npz_for_each_executor(tmp_path):
    outs = {}
    for ex in ("reference", "tflm", "litert-reference", "host"):
        out = tmp_path / f"{ex}.npz"
        proc = fitml("run", EXAMPLE, "-i", SAMPLE, "--executor", ex, "-o", out)
        assert proc.returncode == 0, proc.stderr
        with np.load(out) as z:
            assert list(z.files) == ["output_0"]
            outs[ex] = z["output_0"]
    for ex, value in outs.items():
        oplab.assert_exact(outs["reference"], value, ex)


def test_run_json_has_qemu_stats(tmp_path):
    proc = fitml("run", EXAMPLE, "-i", SAMPLE, "--executor", "qemu", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)["stats"]
    assert stats["instructions"] > 0 and stats["stack_bytes"] > 0 and stats["text"] > 0


def test_two_inputs_two_outputs_tflite(tmp_path):
    """A model with several inputs and outputs reads, runs and matches TFLite Micro."""
    a, b = (oplab.act(n, (1, 6), scale=0.05, zp=z) for n, z in (("a", 3), ("b", -7)))
    s = oplab.act("s", (1, 6), scale=0.08, zp=1)
    m = oplab.act("m", (1, 6), scale=0.01, zp=-2)
    graph = Graph.build([a, b, s, m], [Op("ADD", ["a", "b"], ["s"], {"activation": "NONE"}),
                                       Op("MUL", ["a", "b"], ["m"], {"activation": "NONE"})],
                        ["a", "b"], ["s", "m"]).validate()
    path = tmp_path / "two.tflite"
    path.write_bytes(write_tflite(graph))
    rng = np.random.default_rng(5)
    xs = [rng.integers(-128, 128, (1, 6)).astype(np.int8) for _ in range(2)]
    for i, x in enumerate(xs):
        np.save(tmp_path / f"x{i}.npy", x)
    proc = fitml("run", path, "-i", tmp_path / "x0.npy", "-i", tmp_path / "x1.npy",
                 "-o", tmp_path / "o.npz")
    assert proc.returncode == 0, proc.stderr
    want = run_tflm(path.read_bytes(), xs)
    with np.load(tmp_path / "o.npz") as z:
        assert list(z.files) == ["output_0", "output_1"]
        for k in range(2):
            oplab.assert_exact(want[k], z[f"output_{k}"], f"output {k}")
            oplab.assert_exact(want[k], run_graph(graph, xs)[k], f"reference {k}")


def test_wrong_input_count_and_shape_are_clean_errors(tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((1, 5), np.int8))
    proc = fitml("run", EXAMPLE, "-i", tmp_path / "bad.npy")
    assert proc.returncode == 2 and "expects shape" in one_clear_line(proc)
    proc = fitml("run", EXAMPLE)
    assert proc.returncode == 2 and "inputs" in one_clear_line(proc)


def test_calibration_data_of_the_wrong_shape(tmp_path):
    np.save(tmp_path / "calib.npy", np.zeros((4, 32, 32, 3), np.float32))
    proc = fitml("compile", REPO / "examples" / "mnist_cnn.onnx", "--calib",
                 tmp_path / "calib.npy", "-o", tmp_path / "out")
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "calib.npy" in line and "28" in line
    assert not (tmp_path / "out").exists()
