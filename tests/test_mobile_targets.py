"""Mobile targets produce a .tflite by default that LiteRT and TFLite Micro run unchanged."""
from __future__ import annotations

import numpy as np

from cli_util import fitml, one_clear_line
from conftest import REPO
from toolchain.frontends.tflite import load_tflite
from toolchain.targets import known_targets, load_target
from toolchain.verify.litert import run_litert
from toolchain.ops.interpreter import run_graph

EXAMPLE = REPO / "examples" / "mnist_cnn_int8.tflite"


def test_mobile_targets_exist_and_default_to_tflite():
    mobile = [n for n in known_targets() if load_target(n).kind == "mobile"]
    assert {"android-arm64", "ios-arm64", "linux-arm64"} <= set(mobile)
    assert all(load_target(n).default_format == "tflite" for n in mobile)


def test_compile_for_a_phone_writes_a_tflite_litert_runs(tmp_path):
    out = tmp_path / "phone.tflite"
    proc = fitml("compile", EXAMPLE, "--target", "android-arm64", "-o", out)
    assert proc.returncode == 0, proc.stderr
    graph = load_tflite(out)
    x = np.random.default_rng(0).integers(-128, 128, (1, 28, 28, 1)).astype(np.int8)
    np.testing.assert_array_equal(run_litert(out.read_bytes(), [x])[0], run_graph(graph, [x])[0])


def test_mobile_target_refuses_c_and_verify(tmp_path):
    proc = fitml("compile", EXAMPLE, "--target", "ios-arm64", "--format", "c",
                 "-o", tmp_path / "x")
    assert proc.returncode == 2 and "mobile target" in one_clear_line(proc)
    proc = fitml("verify", EXAMPLE, "--target", "ios-arm64")
    assert proc.returncode == 2 and "litert" in one_clear_line(proc)


def test_check_on_a_phone_measures_litert_and_checks_budgets():
    import json
    proc = fitml("check", EXAMPLE, "--target", "android-arm64", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert rep["schema"] == "fitml.mobile-fit/1" and rep["fits"]
    assert rep["tflite_bytes"] > 1000 and rep["peak_memory_bytes"] > 0 and rep["invoke_ms"] > 0
    size = rep["tflite_bytes"]
    ok = fitml("check", EXAMPLE, "--target", "android-arm64", "--flash", size,
               "--ram", rep["peak_memory_bytes"] * 4)
    assert ok.returncode == 0, ok.stderr + ok.stdout
    small = fitml("check", EXAMPLE, "--target", "android-arm64", "--flash", size - 1,
                  "--ram", "1K")
    assert small.returncode == 1, small.stderr
    line = one_clear_line(small)
    assert f".tflite {size:,} B over --flash {size - 1:,} B" in line, line
    assert "over --ram 1,024 B" in line, line
