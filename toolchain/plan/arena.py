"""Static arena planner behind TFLM's small interface: add buffers with lifetimes, plan, query.

Greedy by size, first fit: buffers are placed largest first, each at the lowest aligned offset
where it overlaps no already placed buffer whose lifetime intersects its own.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Buffer:
    size: int
    first: int     # first step (op index) at which the buffer must hold data
    last: int      # last step at which it is read
    name: str = ""

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


def align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


class ArenaPlanner:
    def __init__(self, alignment: int = 16):
        self.alignment = alignment
        self.buffers: list[Buffer] = []
        self._offsets: list[int] | None = None

    def add_buffer(self, size: int, first: int, last: int, name: str = "") -> int:
        """Register a buffer live over steps [first, last]; returns its id."""
        if size < 0 or last < first:
            raise ValueError(f"buffer {name!r}: bad size {size} or lifetime [{first}, {last}]")
        self.buffers.append(Buffer(int(size), int(first), int(last), name))
        self._offsets = None
        return len(self.buffers) - 1

    def _plan(self) -> list[int]:
        order = sorted(range(len(self.buffers)),
                       key=lambda i: (-self.buffers[i].size, self.buffers[i].first, i))
        offsets: list[int | None] = [None] * len(self.buffers)
        placed: list[int] = []
        for i in order:
            buf = self.buffers[i]
            busy = sorted((offsets[j], offsets[j] + self.buffers[j].size) for j in placed
                          if self.buffers[j].size and buf.overlaps_in_time(self.buffers[j]))
            candidate = 0
            for start, end in busy:
                if candidate + buf.size <= start:
                    break
                candidate = max(candidate, align_up(end, self.alignment))
            offsets[i] = candidate
            placed.append(i)
        return [int(o) for o in offsets]

    def offset(self, buffer_id: int) -> int:
        if self._offsets is None:
            self._offsets = self._plan()
        return self._offsets[buffer_id]

    @property
    def arena_size(self) -> int:
        if not self.buffers:
            return 0
        if self._offsets is None:
            self._offsets = self._plan()
        end = max(o + b.size for o, b in zip(self._offsets, self.buffers))
        return align_up(end, self.alignment)


def check_no_overlap(buffers: list[Buffer], offsets: list[int], alignment: int) -> None:
    """Planner invariant: aligned offsets, and no two time-overlapping buffers share bytes."""
    for i, (a, oa) in enumerate(zip(buffers, offsets)):
        if oa % alignment:
            raise AssertionError(f"buffer {a.name or i} at offset {oa} is not {alignment}-aligned")
        for j in range(i + 1, len(buffers)):
            b, ob = buffers[j], offsets[j]
            if a.size and b.size and a.overlaps_in_time(b) and oa < ob + b.size and ob < oa + a.size:
                raise AssertionError(f"buffers {a.name or i} [{oa}, {oa + a.size}) and "
                                     f"{b.name or j} [{ob}, {ob + b.size}) overlap while both live")
