"""The wheel carries targets/, templates/ and runtime_c/: an installed fitml works outside the
repository (they ship as toolchain/_data/...)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation",
                           "-q", "-w", str(out), str(REPO)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [wheel] = list(out.glob("fitml-*.whl"))
    site = out / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    return site


def test_wheel_contains_the_resources(unpacked_wheel):
    data = unpacked_wheel / "toolchain" / "_data"
    assert (data / "templates" / "model.c.j2").is_file()
    assert (data / "targets" / "cores" / "cortex-m4.toml").is_file()
    assert (data / "targets" / "boards" / "nucleo-l476rg.toml").is_file()
    assert (data / "runtime_c" / "include" / "fitml" / "fitml.h").is_file()
    assert (data / "runtime_c" / "src" / "portable" / "fitml_conv_s8.c").is_file()
    assert (unpacked_wheel / "toolchain" / "verify" / "qemu_plugin" / "insn_count.c").is_file()


def test_installed_fitml_compiles_and_runs_outside_the_repo(unpacked_wheel, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(unpacked_wheel), FITML_CACHE=str(tmp_path / "cache"))
    model = REPO / "examples" / "mnist_cnn_int8.tflite"
    code = ("import sys, toolchain.resources as r, toolchain.cli as c;"
            "assert str(r.resource_dir('templates')).startswith(sys.argv[1]), "
            "r.resource_dir('templates');"
            "sys.exit(c.main(sys.argv[2:]))")
    proc = subprocess.run([sys.executable, "-c", code, str(unpacked_wheel), "compile",
                           str(model), "-o", str(tmp_path / "out")], cwd=tmp_path,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "model.c").is_file()
    proc = subprocess.run([sys.executable, "-c", code, str(unpacked_wheel), "run", str(model),
                           "-i", str(REPO / "examples" / "mnist_sample_int8.npy"),
                           "--executor", "host"], cwd=tmp_path, capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert "output_0" in proc.stdout
