"""`fitml compile --format c-array`: the .tflite as a C array for TensorFlow Lite Micro projects,
laid out as `xxd -i` prints it, named, const, 16-byte aligned, warning-free in C and C++."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from cli_util import fitml
from conftest import REPO

EXAMPLE = REPO / "examples" / "mnist_cnn_int8.tflite"
FLOAT = REPO / "examples" / "mnist_cnn.onnx"
CALIB = REPO / "examples" / "mnist_calib.npy"
MAIN = """#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "digits_tflite.h"
int main(int argc, char **argv)
{
    static unsigned char file[DIGITS_TFLITE_LEN + 1];
    FILE *f = fopen(argv[argc - 1], "rb");
    size_t n = f ? fread(file, 1, sizeof file, f) : 0;
    if (f) fclose(f);
    if ((uintptr_t)digits_tflite % DIGITS_TFLITE_ALIGNMENT != 0) return 3;
    if (n != digits_tflite_len || n != DIGITS_TFLITE_LEN) return 4;
    return memcmp(file, digits_tflite, n) == 0 ? 0 : 5;
}
"""


def array_bytes(c_text: str) -> bytes:
    body = c_text.split("= {", 1)[1].split("};", 1)[0]
    return bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", body))


@pytest.fixture(scope="module")
def array(tmp_path_factory):
    out = tmp_path_factory.mktemp("carray") / "out"
    proc = fitml("compile", EXAMPLE, "--format", "c-array", "--prefix", "digits", "-o", out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_array_is_the_tflite_file_byte_for_byte(array):
    assert sorted(p.name for p in array.iterdir() if not p.name.startswith(".")) == \
        ["digits_tflite.c", "digits_tflite.h", "report.json"]
    text = (array / "digits_tflite.c").read_text()
    assert array_bytes(text) == EXAMPLE.read_bytes()
    head = (array / "digits_tflite.h").read_text()
    assert f"#define DIGITS_TFLITE_LEN {EXAMPLE.stat().st_size}u" in head
    assert "#define DIGITS_TFLITE_ALIGNMENT 16" in head


def test_layout_is_xxd_i_with_a_name_and_alignment(array, tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "digits.tflite")
    xxd = subprocess.run(["xxd", "-i", "digits.tflite"], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    want = xxd.split("= {\n", 1)[1].split("\n};", 1)[0]
    got = (array / "digits_tflite.c").read_text().split("= {\n", 1)[1].split("\n};", 1)[0]
    assert got == want


@pytest.mark.parametrize("cc", ["gcc", "g++", "arm-none-eabi-gcc"])
def test_compiles_warning_free_and_is_aligned(array, tmp_path, cc):
    strict = ["-Wall", "-Wextra", "-Werror", "-pedantic"] + (["-std=c99"] if "++" not in cc
                                                            else ["-x", "c++"])
    if cc == "arm-none-eabi-gcc":
        proc = subprocess.run([cc, "-mcpu=cortex-m4", "-mthumb", *strict, "-c",
                               str(array / "digits_tflite.c"), "-o", str(tmp_path / "a.o")],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stderr, proc.stderr
        return
    (tmp_path / "main.c").write_text(MAIN)
    exe = tmp_path / "check"
    proc = subprocess.run([cc, *strict, f"-I{array}", str(tmp_path / "main.c"),
                           str(array / "digits_tflite.c"), "-o", str(exe)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    assert subprocess.run([str(exe), str(EXAMPLE)]).returncode == 0


def test_a_quantized_model_gives_the_tflite_compile_writes(tmp_path):
    flat = tmp_path / "m.tflite"
    args = ("--calib", CALIB, "--target", "cortex-m4")
    assert fitml("compile", FLOAT, *args, "--format", "tflite", "-o", flat).returncode == 0
    proc = fitml("compile", FLOAT, *args, "--format", "c-array", "-o", tmp_path / "arr")
    assert proc.returncode == 0, proc.stderr
    assert array_bytes((tmp_path / "arr" / "model_tflite.c").read_text()) == flat.read_bytes()
