"""`fitml compile A B -o DIR --prefix a,b`: the CLI side of several models in one project
(the firmware build itself: test_firmware_build.py)."""
from __future__ import annotations

import json

from cli_util import fitml, one_clear_line
from conftest import REPO, shared_model

DIGITS = REPO / "examples" / "mnist_cnn_int8.tflite"
HELLO = "tflm/hello_world_int8.tflite"


def test_two_models_one_report_and_verify(tmp_path):
    out = tmp_path / "fw"
    proc = fitml("compile", DIGITS, shared_model(HELLO), "-o", out, "--prefix", "digits,hw",
                 "--verify", "--random", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 models, one runtime" in proc.stdout
    assert proc.stdout.count("host bit-exact, qemu bit-exact, tflm bit-exact") == 2
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "fitml.project/1"
    assert [m["prefix"] for m in report["models"]] == ["digits", "hw"]
    on_disk = sorted(p.stem for p in (out / "runtime_c" / "src").glob("*.c"))
    assert on_disk == report["runtime"]["kernels"]


def test_default_prefixes_are_the_file_names(tmp_path):
    proc = fitml("compile", DIGITS, shared_model(HELLO), "-o", tmp_path / "fw", "--json")
    assert proc.returncode == 0, proc.stderr
    prefixes = [m["prefix"] for m in json.loads(proc.stdout)["models"]]
    assert prefixes == ["mnist_cnn_int8", "hello_world_int8"]


def test_bad_combinations_are_one_line_errors(tmp_path):
    hello = shared_model(HELLO)
    cases = [(("--prefix", "a"), "2 models"), (("--prefix", "a,a"), "given twice"),
             (("--prefix", "a,fitml_x"), "fitml"),
             (("--calib", REPO / "examples" / "mnist_calib.npy"), "--calib applies to one"),
             (("--format", "tflite"), "--format tflite applies to one")]
    for args, words in cases:
        proc = fitml("compile", DIGITS, hello, "-o", tmp_path / "x", *args)
        assert proc.returncode == 2, (args, proc.stdout)
        assert words in one_clear_line(proc), args
        assert not (tmp_path / "x").exists()
