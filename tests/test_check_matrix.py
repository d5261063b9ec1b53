"""`fitml check` over several models x several targets: one table, the same verdicts as the
single checks, in a process pool or on a local Ray cluster."""
from __future__ import annotations

import json

import pytest

from cli_util import fitml, one_clear_line
from conftest import shared_model

BOARDS = ["nucleo-f411re", "nucleo-l476rg"]


@pytest.fixture(scope="module")
def models():
    return [shared_model("mlperf_tiny/kws/kws_ref_model_int8.tflite"),
            shared_model("tflm/hello_world_int8.tflite")]


def _targets(boards):
    return [a for b in boards for a in ("--target", b)]


@pytest.fixture(scope="module")
def pool_cells(models):
    proc = fitml("check", *models, *_targets(BOARDS), "--no-measure", "--format", "json",
                 "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_matrix_holds_every_pair_with_the_single_checks_verdict(models, pool_cells):
    assert pool_cells["schema"] == "fitml.matrix/1"
    cells = {(c["model"], c["target"]): c for c in pool_cells["cells"]}
    assert len(cells) == len(models) * len(BOARDS)
    for model in models:
        for board in BOARDS:
            one = json.loads(fitml("check", model, "--target", board, "--no-measure",
                                   "--format", "json").stdout)
            cell = cells[str(model), board]
            assert cell["status"] == "fits" and cell["verdict"] == one["verdict"], (cell, one)
            assert cell["regions"] == {r["name"]: {"used": r["used"], "capacity": r["capacity"]}
                                       for r in one["regions"]}


def test_matrix_text_and_exit_code_when_something_does_not_fit(models):
    proc = fitml("check", *models, *_targets(BOARDS), "--no-measure", "--ram", "4K",
                 "--partition", "off")           # the hopeless patch searches: a minute
    assert proc.returncode == 1, proc.stderr
    head, rule, *rows = proc.stdout.splitlines()
    assert head.split()[1:] == BOARDS and len(rows) == 2, proc.stdout
    kws_row = next(r for r in rows if "kws" in r)
    assert "NO: sram +" in kws_row, kws_row        # nucleo-f411re's one RAM bank overflows
    assert f"{models[0]} on {BOARDS[0]}: does not fit" in proc.stderr, proc.stderr


def test_a_failing_cell_is_reported_and_the_rest_still_run(models):
    proc = fitml("check", models[1], "--target", BOARDS[0], "--target", "no-such-board",
                 "--target", "android-arm64", "--no-measure", "--format", "json")
    assert proc.returncode == 2, proc.stderr
    status = {c["target"]: c["status"] for c in json.loads(proc.stdout)["cells"]}
    assert status == {BOARDS[0]: "fits", "no-such-board": "error",
                      "android-arm64": "fits"}, status


def test_single_model_options_are_refused_in_a_matrix(models, tmp_path):
    proc = fitml("check", *models, "--target", BOARDS[0], "--plot", tmp_path / "p.svg")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "--plot" in one_clear_line(proc)


def test_ray_cluster_gives_the_same_matrix(models, pool_cells):
    proc = fitml("check", *models, *_targets(BOARDS), "--no-measure", "--format", "json",
                 "--ray", "local", "--jobs", "2", timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == pool_cells
