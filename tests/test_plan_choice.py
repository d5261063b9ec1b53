"""The plan a board gets: the fastest that fits, one choice for check, compile and verify.

MLPerf KWS on a Cortex-M4 whose RAM leaves the activations less than the fast plan's
17,376 B but more than the small plan's 16,000 B: with partitioning allowed the choice is a
partition; with `--partition off` it is the small-arena plan, which check names (verdict and
`memory_plan`), compile plans (its arena) and verify runs bit-exact; `--memory fast` forces the
fast plan (does not fit) and plenty of RAM keeps it (no `memory_plan`).
"""
from __future__ import annotations

import json

import pytest

from cli_util import fitml
from conftest import shared_model

KWS = shared_model("mlperf_tiny/kws/kws_ref_model_int8.tflite")
TIGHT = ["--target", "cortex-m4", "--ram", "33000"]    # 16,616 B left for activations


def check_json(*flags: str) -> tuple[int, dict]:
    proc = fitml("check", KWS, *TIGHT, "--format", "json", *flags)
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def small():
    return check_json("--partition", "off")


def test_check_takes_the_small_plan_when_neither_fast_nor_a_partition_may(small):
    rc, rep = small
    assert rc == 0 and rep["fits"], rep["verdict"]
    assert rep["memory_plan"]["plan"] == "small", rep["memory_plan"]
    assert rep["activations_peak_bytes"] == 16_000, rep["activations_peak_bytes"]
    assert "with the small-arena plan (the fast plan's activations need 17,376 B, 16,616 B " \
        "are left for them; the small plan's 16,000 B fit" in rep["verdict"], rep["verdict"]


def test_a_partition_comes_before_the_small_plan():
    rc, rep = check_json()
    assert rc == 0 and rep["partition"]["applied"], rep["verdict"]
    assert rep["memory_plan"] is None


def test_memory_fast_forces_the_fast_plan():
    rc, rep = check_json("--partition", "off", "--memory", "fast")
    assert rc == 1 and not rep["fits"] and rep["memory_plan"] is None, rep["verdict"]
    assert rep["activations_peak_bytes"] == 17_376


def test_plenty_of_ram_keeps_the_fast_plan():
    proc = fitml("check", KWS, "--target", "cortex-m4", "--format", "json")
    rep = json.loads(proc.stdout)
    assert proc.returncode == 0 and rep["memory_plan"] is None, rep["verdict"]
    assert rep["activations_peak_bytes"] == 17_376


def test_compile_and_verify_make_the_same_choice(small, tmp_path):
    out = tmp_path / "c"
    proc = fitml("compile", KWS, *TIGHT, "--partition", "off", "-o", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["memory_plan"] == {"plan": "small"}, report.get("memory_plan")
    assert report["arena_bytes"] == small[1]["activations_peak_bytes"]
    assert "memory plan: small" in proc.stdout, proc.stdout
    run = fitml("verify", KWS, *TIGHT, "--partition", "off", "--random", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "reference vs qemu   bit-exact" in run.stdout and "memory plan: small" in run.stdout
