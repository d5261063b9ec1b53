"""Cortex-M targets, the bare-metal harness and the QEMU runner with exact instruction counts.

Each test builds a tiny C "model" (a function `fitml_model_run(inputs, outputs)`) with the
generated harness for a core, runs it under qemu-system-arm and checks output bytes, exit code,
instruction counts (exact, run to run) and the harness reports (faults, stack, link overflow).
"""
from __future__ import annotations

import re
import shutil
import struct

import numpy as np
import pytest

from toolchain import targets
from toolchain.errors import BuildError, ToolchainMissing
from toolchain.verify import qemu
from toolchain.verify.elf import build_elf, elf_sizes, elf_symbols
from toolchain.verify.harness import (EXIT_FAULT, EXIT_IO, EXIT_MODEL, EXIT_STACK,
                                      render_linker_script, render_main, render_startup)

CORES = ["cortex-m0", "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33",
         "cortex-m55"]
N_MACS = 65536

DOT_C = """
#include <stdint.h>

/* 65,536 int8 MACs; the int32 sum goes out little-endian. */
int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    const int8_t *a = inputs[0];
    const int8_t *b = inputs[1];
    int32_t acc = 0;
    for (uint32_t i = 0u; i < 65536u; i++) {
        acc += (int32_t)a[i] * b[i];
    }
    *(int32_t *)outputs[0] = acc;
    return 0;
}
"""

LOOP_C = """
#include <stdint.h>

/* Exactly 2 instructions per iteration; returns the input's second word as its status. */
int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    const uint32_t *in = inputs[0];
    uint32_t n = in[0];
    __asm__ volatile(".syntax unified\\n1: subs %0, %0, #1\\n bne 1b" : "+l"(n) : : "cc");
    *(uint32_t *)outputs[0] = n + 0x600DF00Du;
    return (int)in[1];
}
"""

FAULT_C = """
__attribute__((noinline)) void fitml_test_crash(void)
{
    __asm__ volatile("udf #7");
}

int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    (void)inputs;
    (void)outputs;
    fitml_test_crash();
    return 0;
}
"""

RECURSE_C = """
#include <stdint.h>

uint8_t fitml_test_pad[16384]; /* .bss below the stack: catches an overflow on M3/M4/M7 */

__attribute__((noinline)) static uint32_t deep(volatile uint8_t *prev, uint32_t n)
{
    volatile uint8_t buf[64];
    buf[0] = (uint8_t)n;
    buf[63] = prev ? prev[0] : 0u;
    return n == 0u ? buf[63] : deep(buf, n - 1u) + buf[0];
}

int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    *(uint32_t *)outputs[0] = deep(0, *(const uint32_t *)inputs[0]) + fitml_test_pad[0];
    return 0;
}
"""

REGIONS_C = """
#include <stdint.h>

__attribute__((section(".fitml.isram"))) uint32_t fitml_test_big[1000000];
__attribute__((section(".fitml.qspi"))) const uint32_t fitml_test_table[4] = {11u, 22u, 33u, 44u};

int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    (void)inputs;
    uint32_t *o = outputs[0];
    o[0] = fitml_test_big[0] + fitml_test_big[999999]; /* zeroed by the reset handler */
    fitml_test_big[999999] = 7u;
    o[1] = fitml_test_big[999999] + fitml_test_table[3];
    o[2] = (uint32_t)(uintptr_t)&fitml_test_big[0];
    o[3] = (uint32_t)(uintptr_t)fitml_test_table;
    return 0;
}
"""


def build(tmp_path, target, source, in_sizes, out_sizes, **kw):
    """ELF of `source` + the generated harness, built in its own directory under tmp_path."""
    name = target if isinstance(target, str) else target.name
    d = tmp_path / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.c").write_text(source)
    main = render_main(d, in_sizes, out_sizes)
    return build_elf([d / "model.c", main], [], target, d, **kw)


def i8(rng, n):
    return rng.integers(-128, 128, size=n, dtype=np.int8)


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


@pytest.mark.parametrize("core", ["cortex-m0", "cortex-m4", "cortex-m33"])
def test_hardfault_gives_readable_report(tmp_path, core):
    elf = build(tmp_path, core, FAULT_C, [], [4])
    r = qemu.run_elf(elf, core, [], 1)
    assert r.exit_code == EXIT_FAULT, r.stdout + r.stderr
    assert "*** fitml: HardFault" in r.stdout
    crash = elf_symbols(elf)["fitml_test_crash"]
    assert f"PC={crash:#x}" in r.stdout, r.stdout
    assert r.fault().startswith(f"HardFault at PC={crash:#x}")
    if core != "cortex-m0":  # ARMv6-M has no CFSR
        assert "UNDEFINSTR" in r.fault() and "CFSR=0x10000" in r.stdout
    assert r.instructions is None  # the end marker was never reached
    with pytest.raises(qemu.QemuError, match="HardFault at PC="):
        r.check()


@pytest.mark.parametrize("core, code", [("cortex-m0", EXIT_STACK),
                                        ("cortex-m4", EXIT_FAULT),
                                        ("cortex-m33", EXIT_FAULT)])
def test_stack_overflow_is_caught(tmp_path, core, code):
    elf = build(tmp_path, core, RECURSE_C, [4], [4], stack_size=2048)
    ok = qemu.run_elf(elf, core, [struct.pack("<I", 4)], 1).check()
    assert 4 * 64 < ok.stack_bytes < 2048
    r = qemu.run_elf(elf, core, [struct.pack("<I", 40)], 1)
    assert r.exit_code == code, r.stdout + r.stderr
    if core == "cortex-m0":  # no MPU: the canary guard band is found written after the run
        assert "stack overflow" in r.stdout
    elif core == "cortex-m4":  # the MPU makes the guard band read-only
        assert "stack overflow" in r.fault() and "DACCVIOL" in r.fault(), r.stdout
    else:  # MSPLIM turns the overflow into a clean STKOF UsageFault
        assert "STKOF" in r.fault(), r.stdout


def test_link_overflow_names_the_region(tmp_path):
    board = tmp_path / "tiny.toml"
    board.write_text('name = "tiny"\ncore = "cortex-m4"\n'
                     '[[regions]]\nname = "flash"\nkind = "flash"\nbase = 0\nsize = "64K"\n'
                     '[[regions]]\nname = "sram"\nkind = "ram"\nbase = 0x20000000\n'
                     'size = "16K"\n')
    with pytest.raises(BuildError) as err:
        build(tmp_path, targets.load_target(board), DOT_C, [N_MACS, N_MACS], [4],
              stack_size=4096)
    first = str(err.value).splitlines()[0]
    m = re.fullmatch(r"link failed: region 'RAM' overflowed by (\d+) bytes", first)
    assert m, first
    need = 2 * N_MACS + 4096 + 128 - 16 * 1024  # input buffers, stack and guard, minus 16 KB
    assert need <= int(m.group(1)) < need + 256


def test_m55_extra_regions_are_placed_and_zeroed(tmp_path):
    elf = build(tmp_path, "cortex-m55", REGIONS_C, [], [16])
    r = qemu.run_elf(elf, "cortex-m55", [], 1).check()
    zero, value, big, table = struct.unpack("<4I", r.outputs[0])
    target = targets.load_target("cortex-m55")
    assert (zero, value) == (0, 7 + 44)
    assert (big, table) == (target.region("isram").base, target.region("qspi").base)
    sizes = elf_sizes(elf, target)
    assert sizes.regions["isram"] == 4 * 1000000 and sizes.regions["qspi"] == 16


def test_timeout_raises(tmp_path):
    elf = build(tmp_path, "cortex-m3", LOOP_C, [8], [4])
    with pytest.raises(qemu.QemuTimeout):  # 2**32 - 1 iterations: far too long
        qemu.run_elf(elf, "cortex-m3", [struct.pack("<II", 0, 0)], 1, timeout=1)


def test_missing_toolchain_names_setup(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ToolchainMissing) as err:
        build(tmp_path, "cortex-m4", DOT_C, [1], [1])
    assert "./setup.sh" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ToolchainMissing, match="qemu-system-arm not found"):
        qemu.run_elf(tmp_path / "x.elf", "cortex-m4", [], 0)


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


# --- targets (no QEMU) ---------------------------------------------------------------------

def test_every_core_loads():
    known = targets.known_targets()
    for core in CORES:
        t = targets.load_target(core)
        assert t.kind == "core" and t.core == core and core in known
        assert t.qemu_args()[:2] == ["-M", t.qemu_machine] and t.cflags[0] == f"-mcpu={core}"
        assert t.code_region.kind == "flash" and t.ram_region.kind == "ram"
    m4 = targets.load_target("cortex-m4")
    assert m4.qemu_machine == "mps2-an386" and "-mfpu=fpv4-sp-d16" in m4.cflags
    assert m4.ram_region == targets.Region("sram", "ram", 0x20000000, 4 << 20)
    m33 = targets.load_target("cortex-m33")
    assert (m33.code_region.base, m33.ram_region.base) == (0x10000000, 0x38000000)


def test_unknown_target_lists_known_ones():
    with pytest.raises(targets.TargetError, match="unknown target 'cortex-m99'.*cortex-m4"):
        targets.load_target("cortex-m99")
    with pytest.raises(targets.TargetError, match="not found"):
        targets.load_target("/nonexistent/board.toml")


def test_board_file_inherits_from_its_core(tmp_path):
    path = tmp_path / "myboard.toml"
    path.write_text('name = "myboard"\ncore = "cortex-m7"\nclock_hz = 216000000\n'
                    'stack_size = "8K"\n'
                    '[[regions]]\nname = "flash"\nkind = "flash"\nbase = 0\nsize = "1M"\n'
                    '[[regions]]\nname = "dtcm"\nkind = "ram"\nbase = 0x20000000\nsize = "128K"\n'
                    '[[regions]]\nname = "sram"\nkind = "ram"\nbase = 0x20020000\n'
                    'size = "384KiB"\n')
    board = targets.load_target(path)
    m7 = targets.load_target("cortex-m7")
    assert (board.kind, board.core, board.name) == ("board", "cortex-m7", "myboard")
    assert board.cflags == m7.cflags and board.qemu_machine == m7.qemu_machine
    assert board.ram_region.name == "dtcm" and board.region("sram").size == 384 * 1024
    assert (board.stack_size, board.clock_hz) == (8192, 216000000)


def test_bad_target_files_are_rejected(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('core = "cortex-m4"\n'
                   '[[regions]]\nname = "flash"\nkind = "flash"\nbase = 0\nsize = "1M"\n'
                   '[[regions]]\nname = "ram"\nkind = "ram"\nbase = 0x80000\nsize = "1M"\n')
    with pytest.raises(targets.TargetError, match="overlap"):
        targets.load_target(bad)
    bad.write_text('core = "cortex-m4"\n'
                   '[[regions]]\nname = "flash"\nkind = "flash"\nbase = 0\nsize = "1M"\n')
    with pytest.raises(targets.TargetError, match="at least one ram region"):
        targets.load_target(bad)
    assert [targets.parse_size(s) for s in (1024, "256K", "1M", "512KiB", "0x400")] == \
        [1024, 256 << 10, 1 << 20, 512 << 10, 1024]
    with pytest.raises(targets.TargetError):
        targets.parse_size("lots")
