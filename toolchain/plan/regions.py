"""Which memory region of a target holds what: RAM banks for activations, flash for constants.

One `Layout` per target and reservation; the C backend emits from it and the fit report accounts
from it, so what the report says moved is what the generated C places.
- RAM: every RAM region of the target is an activation bank, in the order the target lists them
  (fastest first). Bank 0, the main RAM region, also holds the stack, heap, the runtime's static
  data and what the application reserves, so its capacity for activations is its size minus
  those; the other banks are given whole.
- Flash: parameter arrays (per-channel multipliers and shifts: small, read by every call) stay
  in the main flash region; weight arrays fill what is left of it in emission order, and an
  array that does not fit goes to the first later flash region with room (first fit). With no
  room anywhere it stays in the main region, which then overflows, and the report says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

# Main-flash bytes kept for code and initialised data when weights are placed. Placement happens
# before anything is built, so this is an allowance, not a measurement: the fitml runtime plus
# a bare-metal harness measure 2-11 KB on the shared models (fit reports measure it exactly).
CODE_RESERVE = 16 << 10
# ... and per op of the schedule, for models with many ops (an unrolled RNN's hundreds): each
# op's call and constant parameter struct (about 100 B measured on a 730-op GRU, Cortex-M4).
CODE_PER_OP = 128


def code_allowance(ops: int = 0) -> int:
    """Main-flash bytes kept for code when a schedule has `ops` ops."""
    return max(CODE_RESERVE, CODE_PER_OP * ops)


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")   # region names become C identifiers and sections


@dataclass(frozen=True)
class Layout:
    banks: tuple[tuple[str, int], ...]      # RAM regions for activations: (name, capacity)
    flashes: tuple[tuple[str, int], ...]    # flash regions for constants: (name, bytes free)

    def __post_init__(self):
        bad = [n for n, _ in (*self.banks, *self.flashes) if not _NAME.match(n)]
        if bad or not self.banks or not self.flashes:
            raise ValueError(f"a layout needs RAM and flash regions named like {_NAME.pattern}"
                             f"{': not ' + ', '.join(map(repr, bad)) if bad else ''}")

    @property
    def main_flash(self) -> str:
        return self.flashes[0][0]


def ram_reservation(target) -> int:
    """Bytes of the main RAM region a program keeps besides activations: its stack and heap."""
    return int(target.stack_size) + int(target.heap_size)


def layout_for(target, reserve_ram: int = 0, ram_overhead: int | None = None,
               flash_overhead: int | None = None, taken: dict | None = None,
               ops: int = 0) -> Layout:
    """The layout on `target` (a Target): `reserve_ram` bytes of main RAM kept for the
    application on top of `ram_overhead` (default: the stack and heap), `flash_overhead` bytes
    of main flash kept for code (default: code_allowance of `ops`, the model's op count), and
    `taken` bytes per RAM region already spoken for (caller-owned input buffers)."""
    taken = taken or {}
    ram_overhead = ram_reservation(target) if ram_overhead is None else ram_overhead
    flash_overhead = code_allowance(ops) if flash_overhead is None else flash_overhead
    rams = [r for r in target.regions if r.kind == "ram"]
    flashes = [r for r in target.regions if r.kind == "flash"]
    banks = [(r.name, max(0, r.size - taken.get(r.name, 0)
                          - (reserve_ram + ram_overhead if i == 0 else 0)))
             for i, r in enumerate(rams)]
    return Layout(tuple(banks), tuple((r.name, max(0, r.size - flash_overhead) if i == 0
                                       else r.size) for i, r in enumerate(flashes)))


def place_weights(layout: Layout, arrays: Iterable[tuple[str, int, bool]]) -> dict[str, str]:
    """Flash region of every constant array, given as (symbol, footprint bytes, is_param)."""
    arrays = list(arrays)
    room = dict(layout.flashes)
    main = layout.main_flash
    room[main] -= sum(size for _, size, is_param in arrays if is_param)
    where = {}
    for symbol, size, is_param in arrays:
        home = main if is_param else next(
            (name for name, _ in layout.flashes if room[name] >= size), main)
        if not is_param:
            room[home] -= size
        where[symbol] = home
    return where
