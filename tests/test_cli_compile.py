"""`fitml compile` and `fitml verify` as a user runs them: files, determinism, exit codes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess


from cli_util import FITML, fitml, one_clear_line
from conftest import REPO

EXAMPLE = REPO / "examples" / "mnist_cnn_int8.tflite"
SAMPLE = REPO / "examples" / "mnist_sample_int8.npy"


def test_compile_writes_a_complete_c_project(tmp_path):
    out = tmp_path / "build"
    proc = fitml("compile", EXAMPLE, "--target", "cortex-m4", "-o", out)
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in out.iterdir()}
    assert {"model.h", "model.c", "model_weights.c", "model_weights.h", "model.cmake",
            "model.mk", "runtime_c", "report.json"} <= names
    report = json.loads((out / "report.json").read_text())
    assert report["target"] == "cortex-m4" and report["arena_bytes"] > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp dir left"


def test_compile_is_deterministic(tmp_path):
    for d in ("a", "b"):
        assert fitml("compile", EXAMPLE, "-o", tmp_path / d).returncode == 0
    for f in ("model.h", "model.c", "model_weights.c", "model_weights.h", "report.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    text = (tmp_path / "a" / "model.c").read_text()
    assert str(tmp_path) not in text and str(REPO) not in text


def test_generated_project_builds_with_its_make_snippet(tmp_path):
    out = tmp_path / "proj"
    assert fitml("compile", EXAMPLE, "-o", out, "--prefix", "digits").returncode == 0
    (tmp_path / "app.c").write_text(
        '#include <string.h>\n#include "digits.h"\n'
        "static uint8_t arena[DIGITS_ARENA_SIZE] __attribute__((aligned(16)));\n"
        "int main(void) { memset(digits_input(arena, 0), 0, DIGITS_INPUT0_BYTES);\n"
        "  return digits_invoke(arena); }\n")
    (tmp_path / "Makefile").write_text(
        "include proj/digits.mk\n"
        "app: app.c $(DIGITS_SRCS)\n"
        "\tgcc -std=c99 -Wall -Wextra -Werror -pedantic $(DIGITS_CFLAGS) $^ -o $@ -lm\n")
    proc = subprocess.run(["make", "-s", "app"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([str(tmp_path / "app")]).returncode == 0


def test_compile_tflite_format(tmp_path):
    out = tmp_path / "m.tflite"
    proc = fitml("compile", EXAMPLE, "--format", "tflite", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[4:8] == b"TFL3"


def test_verify_example_on_qemu_json():
    proc = fitml("verify", EXAMPLE, "--target", "cortex-m4", "-i", SAMPLE, "--random", "2",
                 "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["bit_exact"] is True
    assert set(report["executors"]) == {"host", "qemu", "tflm"}
    stats = report["stats"]
    assert stats["instructions"] > 0 and stats["macs"] > 0 and stats["stack_bytes"] > 0


def test_unknown_target_is_a_clean_error(tmp_path):
    proc = fitml("compile", EXAMPLE, "--target", "cortex-m9", "-o", tmp_path / "x")
    assert proc.returncode == 2
    assert "cortex-m4" in one_clear_line(proc)
    assert not (tmp_path / "x").exists()


def test_missing_cross_toolchain_names_setup(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("gcc", "python3"):   # a PATH with host tools but no arm-none-eabi-gcc / qemu
        if shutil.which(tool):
            os.symlink(shutil.which(tool), bindir / tool)
    env = dict(os.environ, PATH=str(bindir), FITML_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([str(FITML), "run", EXAMPLE, "-i", SAMPLE, "--executor", "qemu"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert "setup.sh" in one_clear_line(proc)
