"""Static arena planner behind TFLM's small interface: add buffers with lifetimes, plan, query.

Several greedy placements are tried and the smallest arena wins:
- by size, first fit: largest first, each at the lowest aligned offset where it overlaps no
  placed buffer whose lifetime intersects its own (TFLM's GreedyMemoryPlanner);
- by size, lowest top: among the gaps that fit, the one that raises the arena's top least (this
  finds the ping-pong layout of chains, where first fit fragments);
- by schedule order, lowest top.
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

    def _place(self, order: list[int], lowest_top: bool) -> list[int]:
        offsets: list[int] = [0] * len(self.buffers)
        placed: list[int] = []
        top = 0
        for i in order:
            buf = self.buffers[i]
            busy = sorted((offsets[j], offsets[j] + self.buffers[j].size) for j in placed
                          if self.buffers[j].size and buf.overlaps_in_time(self.buffers[j]))
            gaps, cursor = [], 0
            for start, end in busy:
                if cursor + buf.size <= start:
                    gaps.append(cursor)
                cursor = max(cursor, align_up(end, self.alignment))
            gaps.append(cursor)
            if lowest_top:
                # the gap that raises the top least; among equals, the tightest then lowest
                def cost(off):
                    above = [s for s, _ in busy if s >= off + buf.size]
                    slack = (min(above) - off - buf.size) if above else 1 << 62
                    return (max(top, off + buf.size), slack, off)
                offsets[i] = min(gaps, key=cost)
            else:
                offsets[i] = gaps[0]
            top = max(top, offsets[i] + buf.size)
            placed.append(i)
        return offsets

    def _plan(self) -> list[int]:
        ids = range(len(self.buffers))
        by_size = sorted(ids, key=lambda i: (-self.buffers[i].size, self.buffers[i].first, i))
        by_time = sorted(ids, key=lambda i: (self.buffers[i].first, -self.buffers[i].size, i))
        candidates = [self._place(by_size, False), self._place(by_size, True),
                      self._place(by_time, True)]
        return min(candidates, key=self._top)

    def _top(self, offsets: list[int]) -> int:
        return max((o + b.size for o, b in zip(offsets, self.buffers)), default=0)

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
