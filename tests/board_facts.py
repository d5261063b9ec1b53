"""The shipped board files (targets/boards/*.toml) and ../shared/BOARDS.md, parsed: which
BOARDS.md sections hold each board's numbers, the tables' rows, and whether a region is made up
exactly of rows of its kind (tests/test_boards_files.py, tests/test_boards_md.py)."""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

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
