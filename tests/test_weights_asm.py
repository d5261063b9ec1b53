"""The measuring build of `fitml check` assembles the weights from their bytes (.incbin,
backends/cweights_asm.py) instead of compiling model_weights.c: it must link the very program
the C text links. Both forms of real models are built for real boards (DSP layouts, float
parameters, weights spilled to a second flash region) and every allocated section's bytes and
every symbol's address and size are compared."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from bank_boards import KWS, m55_board
from conftest import shared_model
from toolchain import api
from toolchain.verify.qemu_build import _build_qemu, emulation_target, harness_layout

pytestmark = pytest.mark.skipif(not shutil.which("arm-none-eabi-gcc"),
                                reason="arm-none-eabi-gcc missing: run ./setup.sh")

CASES = [("mlperf_tiny/vww/vww_96_int8.tflite", "nucleo-f411re", "-O2"),
         ("tflm/hello_world_float.tflite", "cortex-m0", "-O2"),
         ("tflm/micro_speech_quantized.tflite", "cortex-m4", "-Os"),
         ("tflm/micro_speech_quantized.tflite", "cortex-m0", "-O0"),
         ("mlperf_tiny/ad/ad01_int8.tflite", "cortex-m55", "-O2")]


def _sections(elf) -> dict[str, bytes]:
    """The bytes of every allocated section with contents."""
    head = subprocess.run(["arm-none-eabi-objdump", "-h", str(elf)], capture_output=True,
                          text=True, check=True).stdout.splitlines()
    names = [a.split()[1] for a, b in zip(head, head[1:])
             if a.split() and a.split()[0].isdigit() and "CONTENTS" in b and "ALLOC" in b]
    out = {}
    for name in names:
        dump = elf.parent / f"section{name}.bin"
        subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", f"--only-section={name}",
                        str(elf), str(dump)], check=True)
        out[name] = dump.read_bytes()
    return out


def _symbols(elf) -> list[str]:
    out = subprocess.run(["arm-none-eabi-nm", "-S", "-n", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    return out.splitlines()


def assert_same_program(graph, target, opt, layout=None) -> None:
    emu = emulation_target(target)
    layout = layout or harness_layout(emu, graph)
    c_elf, _ = _build_qemu(graph, emu, opt, layout, False)
    asm_elf, _ = _build_qemu(graph, emu, opt, layout, False, measuring=True)
    assert (asm_elf.parent / "model_weights.s").is_file(), "the measuring build used the C text"
    assert not (asm_elf.parent / "model_weights.c").exists()
    c_syms, asm_syms = _symbols(c_elf), _symbols(asm_elf)
    diff = [(i, a, b) for i, (a, b) in enumerate(zip(c_syms, asm_syms)) if a != b]
    assert len(c_syms) == len(asm_syms) and not diff, \
        f"{len(c_syms)} vs {len(asm_syms)} symbols; differing: " + \
        "; ".join(f"[{i}] C {a!r} vs asm {b!r}" for i, a, b in diff)
    c_sec, asm_sec = _sections(c_elf), _sections(asm_elf)
    assert sorted(c_sec) == sorted(asm_sec)
    for name in c_sec:
        a, b = c_sec[name], asm_sec[name]
        bad = [i for i in range(min(len(a), len(b))) if a[i] != b[i]]
        assert len(a) == len(b) and not bad, \
            f"section {name}: {len(a)} vs {len(b)} bytes; differing bytes at " + \
            ", ".join(f"[{i}] {a[i]} vs {b[i]}" for i in bad)


@pytest.mark.parametrize("model,target,opt", CASES, ids=lambda v: str(v).split("/")[-1])
def test_assembled_weights_link_the_program_the_c_text_links(model, target, opt):
    assert_same_program(api.load(shared_model(model)), target, opt)


def test_weights_spilled_to_a_second_flash_region(tmp_path):
    """KWS on a board whose weights overflow its ITCM into QSPI flash: two weight sections."""
    graph = api.load(shared_model(KWS))
    target = m55_board(tmp_path, graph)
    assert_same_program(graph, target, "-O2")
