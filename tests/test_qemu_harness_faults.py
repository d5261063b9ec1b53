"""What the harness reports when things go wrong under QEMU: a HardFault with its PC and fault
status, a stack overflow on every core (canary, MPU guard band, MSPLIM), a link overflow naming
the region, a missing toolchain naming ./setup.sh; Cortex-M55's extra regions are placed and
zeroed."""
from __future__ import annotations

import re
import shutil
import struct

import pytest

from toolchain import targets
from toolchain.errors import BuildError, ToolchainMissing
from toolchain.verify import qemu
from toolchain.verify.elf import elf_sizes, elf_symbols
from toolchain.verify.harness import EXIT_FAULT, EXIT_STACK
from harness_programs import DOT_C, FAULT_C, N_MACS, RECURSE_C, REGIONS_C, build


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


def test_missing_toolchain_names_setup(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ToolchainMissing) as err:
        build(tmp_path, "cortex-m4", DOT_C, [1], [1])
    assert "./setup.sh" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ToolchainMissing, match="qemu-system-arm not found"):
        qemu.run_elf(tmp_path / "x.elf", "cortex-m4", [], 0)
