"""Cortex-M core targets and user board files load (no QEMU): every core's machine, flags and
main regions, a board inheriting from its core, unknown targets listing the known ones, bad
target files rejected, sizes parsed."""
from __future__ import annotations

import pytest

from toolchain import targets
from harness_programs import CORES


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
