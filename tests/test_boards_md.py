"""Every region, core and clock of the shipped board files matches the sourced memory maps in
../shared/BOARDS.md (its tables are parsed, tests/board_facts.py; no number is copied here), and the
matcher rejects wrong numbers."""
from __future__ import annotations

import re

import pytest

from toolchain import targets
from board_facts import (BOARDS, BOARDS_MD, Section, _row, core_names, covered, parse_boards_md,
                         sections_of)


@pytest.fixture(scope="module")
def boards_md() -> dict[str, Section]:
    if not BOARDS_MD.exists():
        pytest.fail(f"board fact sheet missing: {BOARDS_MD} (the board files cite it; it lives "
                    "in ../shared beside the checkout)")
    return parse_boards_md(BOARDS_MD.read_text())


# --- against BOARDS.md ----------------------------------------------------------------------

@pytest.mark.parametrize("board", BOARDS)
def test_regions_match_boards_md(board, boards_md):
    t = targets.load_target(board)
    rows = [r for s in sections_of(board, boards_md) for r in s.rows]
    assert rows, f"{board}: no table rows parsed"
    for main in (t.code_region, t.ram_region):
        assert covered(main, rows), f"{board}: main {main.kind} region {main} not in BOARDS.md"
    bad = [r for r in t.regions if covered(r, rows) is None]
    assert not bad, f"{board}: regions not matching any BOARDS.md row: {bad}"


@pytest.mark.parametrize("board", BOARDS)
def test_core_and_clock_match_boards_md(board, boards_md):
    t = targets.load_target(board)
    headers = [s.header for s in sections_of(board, boards_md)]
    cores = set().union(*map(core_names, headers))
    assert t.core in cores, f"{board}: core {t.core} but BOARDS.md names {sorted(cores)}"
    mhz = {int(m) for h in headers for m in re.findall(r"(\d+) MHz", h)}
    if t.clock_hz is not None:
        assert t.clock_hz % 1_000_000 == 0 and t.clock_hz // 1_000_000 in mhz, (t.clock_hz, mhz)


def test_matcher_rejects_wrong_numbers(boards_md):
    """The comparison can fail: shifted, resized, alias-based or wrong-kind regions."""
    rows = [r for s in sections_of("nucleo-l4r5zi", boards_md) for r in s.rows]
    ram = targets.load_target("nucleo-l4r5zi").ram_region
    assert covered(ram, rows) == ["SRAM1", "SRAM2", "SRAM3"]
    for wrong in (targets.Region("sram", "ram", ram.base, ram.size + 1),
                  targets.Region("sram", "ram", ram.base + 4, ram.size - 4),
                  targets.Region("sram2", "ram", 0x10000000, 65536),  # alias only
                  targets.Region("sram", "flash", ram.base, ram.size)):
        assert covered(wrong, rows) is None, wrong
    assert core_names("**Core:** 2× Cortex-M0+ · Cortex-M4F") == {"cortex-m0plus", "cortex-m4"}
    row = _row(["SRAM9_A / SRAM9_B", "ram", "0x60000000 / 0x60040000", "262144 / 524288", ""],
               {"kind": 1, "base": 2, "size": 3})
    assert row.spans == ((0x60000000, 262144), (0x60040000, 524288))
