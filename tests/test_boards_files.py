"""Shipped board files (targets/boards/*.toml): one per BOARDS.md section, they load, are well
formed (regions ordered without overlap, main regions first), every number has a source comment
above it, and a board loads by name, by path and from a user's copy."""
from __future__ import annotations

import re
import shutil

import pytest

from toolchain import targets
from board_facts import BOARDS, BOARDS_DIR, CORES, SECTIONS


NUMBER_LINE = re.compile(r"^\s*\w+\s*=\s*(0x[0-9A-Fa-f_]+|\d[\d_]*)\s*(#.*)?$")


# --- the files themselves -------------------------------------------------------------------

def test_at_least_twelve_boards_each_mapped_to_boards_md():
    assert len(BOARDS) >= 12, BOARDS
    assert sorted(SECTIONS) == BOARDS, "every board file needs its BOARDS.md sections here"
    known = targets.known_targets()
    assert all(known[b] == BOARDS_DIR / f"{b}.toml" for b in BOARDS)
    assert not set(BOARDS) & set(CORES)


@pytest.mark.parametrize("board", BOARDS)
def test_board_loads_and_is_well_formed(board):
    t = targets.load_target(board)
    assert (t.name, t.kind) == (board, "board")
    assert t.core in CORES and t.description
    core = targets.load_target(t.core)
    assert t.cflags == core.cflags and t.qemu_machine == core.qemu_machine
    assert t.regions != core.regions, "a board brings its own regions"
    assert t.clock_hz is None or 1_000_000 <= t.clock_hz <= 1_000_000_000
    for kind in ("flash", "ram"):
        mine = [r for r in t.regions if r.kind == kind]
        assert mine and all(r.size > 0 for r in mine), f"{board}: no {kind} region"
        assert t.main_region(kind) == mine[0]
    ordered = sorted(t.regions, key=lambda r: r.base)
    for a, b in zip(ordered, ordered[1:]):
        assert a.end <= b.base, f"{board}: {a.name} and {b.name} overlap"
    assert ordered[-1].end <= 1 << 32


@pytest.mark.parametrize("board", BOARDS)
def test_every_number_has_a_comment_above_it(board):
    lines = (BOARDS_DIR / f"{board}.toml").read_text().splitlines()
    bare = []
    for i, line in enumerate(lines):
        if not NUMBER_LINE.match(line):
            continue
        j = i - 1
        while j >= 0 and lines[j].strip() and not lines[j].lstrip().startswith(("#", "[")):
            j -= 1  # other keys of the same block (name, kind, base...)
        if j < 0 or not lines[j].lstrip().startswith("#"):
            bare.append(f"line {i + 1}: {line.strip()}")
    assert not bare, f"{board}: numbers without a source comment: {bare}"


def test_board_loads_by_path(tmp_path):
    for board in ("nucleo-h743zi2", "rpi-pico"):
        by_name = targets.load_target(board)
        path = BOARDS_DIR / f"{board}.toml"
        assert targets.load_target(path) == by_name
        assert targets.load_target(str(path)) == by_name
        copy = tmp_path / f"{board}.toml"  # a user's own copy, outside the repo
        shutil.copy(path, copy)
        mine = targets.load_target(copy)
        assert mine.path == copy and mine.regions == by_name.regions
        assert (mine.name, mine.core, mine.clock_hz) == (board, by_name.core, by_name.clock_hz)


def test_h743_lists_every_sram_bank_dtcm_first():
    t = targets.load_target("nucleo-h743zi2")
    rams = [r.name for r in t.regions if r.kind == "ram"]
    assert rams[0] == "dtcm" and t.ram_region.name == "dtcm"
    assert {"axi_sram", "sram1", "sram2", "sram3", "sram4", "itcm"} <= set(rams)
    pico = targets.load_target("rpi-pico")
    assert (pico.code_region.name, pico.core) == ("ext_flash", "cortex-m0plus")
