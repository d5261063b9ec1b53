"""The runtime objects setup builds (toolchain/verify/prebuild.py) are the ones a harness build
links: after a prebuild, a board build with an empty build cache compiles none of the runtime
(its cache holds no kernel object) and still links the same program as a build that compiles
every kernel itself."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import shared_model
from toolchain import api
from toolchain.verify import objects
from toolchain.verify.prebuild import flag_sets, prebuild
from toolchain.verify.qemu_build import build_qemu

pytestmark = pytest.mark.skipif(not shutil.which("arm-none-eabi-gcc"),
                                reason="arm-none-eabi-gcc missing: run ./setup.sh")


def _sections(elf) -> str:
    return subprocess.run(["arm-none-eabi-objdump", "-h", str(elf)], capture_output=True,
                          text=True, check=True).stdout.split("Sections:")[1]


def test_every_shipped_core_has_a_flag_set():
    cores = {flags[0] for flags, _ in flag_sets()}
    assert {"-mcpu=cortex-m0", "-mcpu=cortex-m4", "-mcpu=cortex-m7",
            "-mcpu=cortex-m33", "-mcpu=cortex-m55"} <= cores, cores


@pytest.mark.parametrize("board", ["nucleo-f411re", "rpi-pico", "alif-e7-devkit-hp"])
def test_a_board_build_after_prebuild_compiles_no_kernel(tmp_path, monkeypatch, board):
    prebuild()                                   # setup.sh ran it; idempotent
    graph = api.load(shared_model("mlperf_tiny/kws/kws_ref_model_int8.tflite"))
    monkeypatch.setenv("FITML_CACHE", str(tmp_path / "with"))
    elf, _ = build_qemu(graph, board, measuring=True)
    compiled = list((tmp_path / "with" / "builds" / "objects").glob("*.o"))
    assert not compiled, f"kernels compiled despite the prebuild: {compiled}"
    monkeypatch.setattr(objects, "PREBUILT", tmp_path / "none")     # every kernel compiled
    monkeypatch.setenv("FITML_CACHE", str(tmp_path / "without"))
    own, _ = build_qemu(graph, board, measuring=True)
    assert list((tmp_path / "without" / "builds" / "objects").glob("*.o"))
    assert _sections(elf) == _sections(own)
    assert elf.read_bytes() == own.read_bytes()
