"""`fitml check` as a PR gate: the flash split, `--baseline OLD.json` deltas,
`--fail-on-growth PCT` and `--max-ms MS`, on real reports of shared models."""
from __future__ import annotations

import json

import pytest

from cli_util import fitml, one_clear_line
from conftest import shared_model

BOARD = "nucleo-f411re"


@pytest.fixture(scope="module")
def kws():
    return shared_model("mlperf_tiny/kws/kws_ref_model_int8.tflite")


@pytest.fixture(scope="module")
def small_report(kws, tmp_path_factory):
    """The KWS report with --memory small: the baseline of the tests below."""
    proc = fitml("check", kws, "--target", BOARD, "--memory", "small", "--format", "json",
                 "--no-measure")
    assert proc.returncode == 0, proc.stderr
    path = tmp_path_factory.mktemp("base") / "old.json"
    path.write_text(proc.stdout)
    return path


def test_flash_split_adds_up_to_the_weights(kws):
    d = json.loads(fitml("check", kws, "--target", BOARD, "--format", "json").stdout)
    split = d["flash_split"]
    assert split["int8_weights"] + split["layouts"] + split["params"] == d["weights_bytes"]
    assert split["code"] == d["code_bytes"] and split["code"] > 0
    assert split["layouts"] == d["dsp_layouts"]["kept_bytes"] > 0
    assert split["params"] == d["params_bytes"]


def test_baseline_prints_each_change(kws, small_report):
    old = json.loads(small_report.read_text())
    proc = fitml("check", kws, "--target", BOARD, "--no-measure", "--baseline", small_report,
                 "--format", "md")
    assert proc.returncode == 0, proc.stderr
    new = json.loads(fitml("check", kws, "--target", BOARD, "--no-measure",
                           "--format", "json").stdout)
    a, b = old["activations_peak_bytes"], new["activations_peak_bytes"]
    assert a < b, (a, b)          # the small plan's arena is smaller: the default grew
    row = f"| arena B | {a:,} | {b:,} | {b - a:+,} ({100 * (b - a) / a:+.1f}%) |"
    assert row in proc.stdout, proc.stdout


def test_fail_on_growth_names_what_grew_past_the_limit(kws, small_report):
    proc = fitml("check", kws, "--target", BOARD, "--no-measure", "--baseline", small_report,
                 "--fail-on-growth", "5")
    assert proc.returncode == 1, proc.stderr
    assert "arena B grew" in proc.stderr and "--fail-on-growth 5%" in proc.stderr
    lenient = fitml("check", kws, "--target", BOARD, "--no-measure", "--baseline",
                    small_report, "--fail-on-growth", "1000")
    assert lenient.returncode == 0, lenient.stderr


@pytest.mark.parametrize("args, words", [
    (["--baseline", "/dev/null"], "not a readable JSON fit report"),
    (["--fail-on-growth", "3"], "give --baseline"),
    (["--target", "cortex-m4", "--max-ms", "1"], "needs a clock"),
])
def test_gate_misuse_is_one_clear_line_before_any_output(kws, args, words):
    target = [] if "--target" in args else ["--target", BOARD]
    proc = fitml("check", kws, *target, *args)
    assert proc.returncode == 2 and proc.stdout == "", proc
    assert words in one_clear_line(proc)


def test_max_ms_gates_on_the_estimated_latency():
    hello = shared_model("tflm/hello_world_int8.tflite")
    ok = fitml("check", hello, "--target", BOARD, "--max-ms", "10")
    assert ok.returncode == 0, ok.stderr
    assert "latency: ~" in ok.stdout and "MHz" in ok.stdout, ok.stdout
    slow = fitml("check", hello, "--target", BOARD, "--max-ms", "0.000001")
    assert slow.returncode == 1 and "exceeds --max-ms" in slow.stderr, slow.stderr
