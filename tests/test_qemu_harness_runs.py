"""The bare-metal harness and the QEMU runner on every Cortex-M core: output bytes, exit codes,
exact instruction counts (identical run to run, a loop of known length counted exactly), the
stack measured, model status and input errors reported, timeouts raised; the generated harness
files are deterministic."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from toolchain import targets
from toolchain.verify import qemu
from toolchain.verify.elf import elf_sizes
from toolchain.verify.harness import (EXIT_IO, EXIT_MODEL, render_linker_script, render_main,
                                      render_startup)
from harness_programs import CORES, DOT_C, LOOP_C, N_MACS, build, i8


@pytest.mark.parametrize("core", CORES)
def test_dot_product_runs_on_core(tmp_path, rng, core):
    # Strict C99 as the C backend builds it: the harness must compile cleanly that way too.
    elf = build(tmp_path, core, DOT_C, [N_MACS, N_MACS], [4], cflags=["-std=c99", "-pedantic"])
    a, b = i8(rng, N_MACS), i8(rng, N_MACS)
    want = int(np.dot(a.astype(np.int64), b.astype(np.int64)))
    runs = [qemu.run_elf(elf, core, [a.tobytes(), b.tobytes()], 1, timeout=30) for _ in range(2)]
    for r in runs:
        r.check()
        assert r.status == 0
        assert struct.unpack("<i", r.outputs[0])[0] == want
        assert 0 < r.stack_bytes < 1024 and r.stack_size == 16384
    assert runs[0].instructions == runs[1].instructions
    # Plain C: between 2 and 10 instructions per MAC on every core (M4: 5 per MAC).
    assert 2 * N_MACS < runs[0].instructions < 10 * N_MACS
    sizes = elf_sizes(elf, core)
    target = targets.load_target(core)
    assert sizes.text > 0 and sizes.bss >= 2 * N_MACS
    assert sizes.regions[target.ram_region.name] >= sizes.bss + 16384
    assert sizes.regions[target.code_region.name] >= sizes.text + sizes.rodata


def test_counts_identical_over_five_runs(tmp_path, rng):
    elf = build(tmp_path, "cortex-m4", DOT_C, [N_MACS, N_MACS], [4])
    blobs = [i8(rng, N_MACS).tobytes(), i8(rng, N_MACS).tobytes()]
    counts = [qemu.run_elf(elf, "cortex-m4", blobs, 1).check().instructions for _ in range(5)]
    assert len(set(counts)) == 1, counts
    assert 4 * N_MACS < counts[0] < 6 * N_MACS  # 5 per MAC as plain C on the M4


@pytest.mark.parametrize("core", ["cortex-m0", "cortex-m4", "cortex-m55"])
def test_loop_of_known_length_counts_exactly(tmp_path, core):
    elf = build(tmp_path, core, LOOP_C, [8], [4])
    counts = {}
    for n in (1000, 51000):
        r = qemu.run_elf(elf, core, [struct.pack("<II", n, 0)], 1).check()
        assert struct.unpack("<I", r.outputs[0])[0] == 0x600DF00D
        counts[n] = r.instructions
    assert counts[51000] - counts[1000] == 2 * 50000
    assert 0 <= counts[1000] - 2 * 1000 <= 32, counts  # markers, call and loads around the loop


def test_model_status_and_io_errors(tmp_path):
    elf = build(tmp_path, "cortex-m3", LOOP_C, [8], [4])
    r = qemu.run_elf(elf, "cortex-m3", [struct.pack("<II", 10, 5)], 1)
    assert (r.exit_code, r.status) == (EXIT_MODEL, 5)
    assert struct.unpack("<I", r.outputs[0])[0] == 0x600DF00D
    with pytest.raises(qemu.QemuError, match="exited with 241"):
        r.check()
    r = qemu.run_elf(elf, "cortex-m3", [b"\x01\x02\x03"], 1)
    assert r.exit_code == EXIT_IO and "wrong size of in0.bin" in r.stdout, r.stdout
    r = qemu.run_elf(elf, "cortex-m3", [], 1)
    assert r.exit_code == EXIT_IO and "cannot open in0.bin" in r.stdout, r.stdout


def test_timeout_raises(tmp_path):
    elf = build(tmp_path, "cortex-m3", LOOP_C, [8], [4])
    with pytest.raises(qemu.QemuTimeout):  # 2**32 - 1 iterations: far too long
        qemu.run_elf(elf, "cortex-m3", [struct.pack("<II", 0, 0)], 1, timeout=1)


def test_generated_files_are_deterministic(tmp_path):
    target = targets.load_target("cortex-m55")
    texts = []
    for d in (tmp_path / "a", tmp_path / "b"):
        paths = [render_main(d, [3, 5], [7], includes=["model.h"]),
                 render_startup(d, target), render_linker_script(d, target)]
        texts.append([p.read_text() for p in paths])
    assert texts[0] == texts[1]
    for text in texts[0]:
        assert str(tmp_path) not in text and "/work" not in text and "/tmp" not in text
