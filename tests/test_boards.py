"""Shipped board files (targets/boards/*.toml): they load, are well formed, and every region,
core and clock matches the sourced memory maps in ../shared/BOARDS.md (its tables are parsed
here; no number is copied into this file)."""
from __future__ import annotations

import itertools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from toolchain import targets

REPO = Path(__file__).resolve().parents[1]
BOARDS_DIR = REPO / "targets" / "boards"
BOARDS_MD = (REPO / ".." / "shared" / "BOARDS.md").resolve()
BOARD_FILES = sorted(BOARDS_DIR.glob("*.toml"))
BOARDS = [p.stem for p in BOARD_FILES]
CORES = sorted(p.stem for p in (REPO / "targets" / "cores").glob("*.toml"))

# Which BOARDS.md sections (start of the heading line) hold each board's numbers.
SECTIONS = {
    "arduino-nano33-ble-sense": ["## 1."],
    "arduino-portenta-h7-m7": ["## 2a."],
    "arduino-nicla-vision-m7": ["## 2b.", "## 2a."],
    "stm32f746g-disco": ["## 3."],
    "nucleo-l4r5zi": ["## 4."],
    "nucleo-h743zi2": ["## 5."],
    "nucleo-f411re": ["## 6."],
    "nucleo-f446re": ["## 7."],
    "nucleo-l476rg": ["## 8."],
    "b-u585i-iot02a": ["## 9."],
    "rpi-pico": ["## 10a."],
    "rpi-pico2": ["## 10b."],
    "nrf5340dk-cpuapp": ["## 11."],
    "sparkfun-edge": ["## 12."],
    "adafruit-feather-m4": ["## 13."],
    "max78000fthr": ["## 14."],
    "corstone300-fvp": ["## 15a."],
    "alif-e7-devkit-hp": ["## 15b."],
    "alif-e7-devkit-he": ["## 15b."],
    "mimxrt1060-evk": ["## 18."],
    "nucleo-g474re": ["## 19."],
    "arduino-nano-rp2040-connect": ["### Arduino Nano RP2040 Connect", "## 10a."],
}

HEX = re.compile(r"0x[0-9A-Fa-f]+")
NUMBER_LINE = re.compile(r"^\s*\w+\s*=\s*(0x[0-9A-Fa-f_]+|\d[\d_]*)\s*(#.*)?$")


@dataclass(frozen=True)
class Row:
    label: str
    kinds: frozenset  # of "flash", "ram", "ext"
    alias: bool
    spans: tuple  # (base, size) pairs the row allows


@dataclass(frozen=True)
class Section:
    header: str  # text before the first table: MCU, core, clock lines
    rows: tuple


def _row(cells: list[str], col: dict[str, int]) -> Row:
    kind, base, size = cells[col["kind"]], cells[col["base"]], cells[col["size"]]
    bases = [int(h, 16) for h in HEX.findall(base)]
    sizes = [int(d) for d in re.findall(r"\b\d+\b", HEX.sub(" ", size)) if int(d) > 0]
    # "0xA / 0xB" with "x / y" pairs up; one base with several sizes (or the reverse) does not.
    pairs = zip(bases, sizes) if len(bases) == len(sizes) > 1 else \
        itertools.product(bases, sizes)
    kinds = frozenset(k for k in ("flash", "ram", "ext") if k in kind.lower())
    return Row(cells[0], kinds, "alias" in kind.lower(), tuple(pairs))


def parse_boards_md(text: str) -> dict[str, Section]:
    """Heading line -> its header text and table rows."""
    out, heading, lines = {}, None, []
    for line in text.splitlines() + ["## end"]:
        if line.startswith("## ") or line.startswith("### "):
            if heading is not None:
                out[heading] = _section(lines)
            heading, lines = line, []
        else:
            lines.append(line)
    return out


def _section(lines: list[str]) -> Section:
    header, rows, col = [], [], None
    for line in lines:
        if not line.startswith("|"):
            if col is None:
                header.append(line)
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if col is None:
            col = {key: next(i for i, c in enumerate(cells) if c.lower().startswith(key))
                   for key in ("kind", "base", "size")}
        elif not set("".join(cells)) <= set("-: "):
            rows.append(_row(cells, col))
    return Section("\n".join(header), tuple(rows))


@pytest.fixture(scope="module")
def boards_md() -> dict[str, Section]:
    if not BOARDS_MD.exists():
        pytest.fail(f"board fact sheet missing: {BOARDS_MD} (the board files cite it; it lives "
                    "in ../shared beside the checkout)")
    return parse_boards_md(BOARDS_MD.read_text())


def sections_of(board: str, md: dict[str, Section]) -> list[Section]:
    found = []
    for prefix in SECTIONS[board]:
        hits = [s for h, s in md.items() if h.startswith(prefix)]
        assert len(hits) == 1, f"{board}: BOARDS.md heading {prefix!r} found {len(hits)} times"
        found.append(hits[0])
    return found


def _kind_ok(region: targets.Region, row: Row) -> bool:
    if region.kind in row.kinds or "ext" in row.kinds:
        return True
    # An ITCM the board links its code into (Corstone-300, as Zephyr does) is RAM in the table.
    return region.kind == "flash" and "itcm" in region.name and "ram" in row.kinds


def covered(region: targets.Region, rows) -> list[str] | None:
    """Labels of the non-alias rows of the region's kind whose spans, back to back, make up the
    region exactly (one row, or adjacent banks merged into one region); None if none do."""
    spans = [(b, s, r.label) for r in rows if not r.alias and _kind_ok(region, r)
             for b, s in r.spans]

    def walk(pos: int) -> list[str] | None:
        if pos == region.end:
            return []
        for b, s, label in spans:
            if b == pos and b + s <= region.end:
                rest = walk(b + s)
                if rest is not None:
                    return [label] + rest
        return None
    return walk(region.base)


def core_names(header: str) -> set[str]:
    """Cores named in a section header: "Cortex-M4F" -> cortex-m4, "Cortex-M0+" -> cortex-m0plus."""
    return {f"cortex-m{n}" + ("plus" if plus else "")
            for n, plus in re.findall(r"Cortex-M(\d+)(\+?)", header)}


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
