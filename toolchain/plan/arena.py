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
        self.anchors: dict[int, int] = {}     # buffer -> the buffer whose offset it takes

    def add_buffer(self, size: int, first: int, last: int, name: str = "",
                   anchor: int | None = None) -> int:
        """Register a buffer live over steps [first, last]; returns its id. With `anchor`
        (an earlier buffer, at least as large, with a disjoint lifetime) it is placed at that
        buffer's offset: an output laid over the input it consumes (patch-based stages)."""
        if size < 0 or last < first:
            raise ValueError(f"buffer {name!r}: bad size {size} or lifetime [{first}, {last}]")
        self.buffers.append(Buffer(int(size), int(first), int(last), name))
        self._offsets = None
        if anchor is not None:
            lead = self.buffers[anchor]
            if anchor in self.anchors or size > lead.size or lead.overlaps_in_time(
                    self.buffers[-1]):
                raise ValueError(f"buffer {name!r} cannot be anchored to {lead.name!r}")
            self.anchors[len(self.buffers) - 1] = anchor
        return len(self.buffers) - 1

    def _anchored_busy(self, i: int, offsets: list, placed: list[int]) -> list:
        """Busy ranges for buffer i from the buffers anchored to it: a placed buffer [s, e)
        live with follower f forbids i's offsets in (s - f.size, e), which is the range
        [s + i.size - f.size, e) in the form the gap search takes."""
        out, size = [], self.buffers[i].size
        for f in (f for f, lead in self.anchors.items() if lead == i):
            fb = self.buffers[f]
            out += [(offsets[j] + size - fb.size, offsets[j] + self.buffers[j].size)
                    for j in placed if self.buffers[j].size and fb.overlaps_in_time(
                        self.buffers[j])]
        return out

    def _place(self, order: list[int], lowest_top: bool, cap: int | None = None) -> list:
        """Offsets in `order`; with a `cap`, a buffer that fits no gap ending at or below it is
        left out (offset None)."""
        offsets: list = [None] * len(self.buffers)
        placed: list[int] = []
        top = 0
        # the placed non-empty buffers live at each step: those live with buffer i are found
        # over its steps only, not over every buffer (a model has thousands)
        live_at: dict[int, list[int]] = {}

        def take(j: int) -> None:
            placed.append(j)
            if self.buffers[j].size:
                for step in range(self.buffers[j].first, self.buffers[j].last + 1):
                    live_at.setdefault(step, []).append(j)
        for i in order:
            if i in self.anchors:            # placed together with its anchor
                continue
            buf = self.buffers[i]
            live = {j for step in range(buf.first, buf.last + 1) for j in live_at.get(step, ())}
            busy = sorted([(offsets[j], offsets[j] + self.buffers[j].size) for j in live]
                          + self._anchored_busy(i, offsets, placed))
            gaps, cursor = [], 0
            for start, end in busy:
                if cursor + buf.size <= start:
                    gaps.append(cursor)
                cursor = max(cursor, align_up(end, self.alignment))
            gaps.append(cursor)
            if cap is not None:
                gaps = [g for g in gaps if g + buf.size <= cap]
                if not gaps:
                    continue
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
            take(i)
            for f, lead in self.anchors.items():
                if lead == i:
                    offsets[f] = offsets[i]
                    take(f)
        return offsets

    def _plan(self) -> list[int]:
        ids = range(len(self.buffers))
        by_size = sorted(ids, key=lambda i: (-self.buffers[i].size, self.buffers[i].first, i))
        by_time = sorted(ids, key=lambda i: (self.buffers[i].first, -self.buffers[i].size, i))
        candidates = [self._place(by_size, False), self._place(by_size, True),
                      self._place(by_time, True)]
        return min(candidates, key=self._top)

    def _top(self, offsets: list) -> int:
        return max((o + b.size for o, b in zip(offsets, self.buffers) if o is not None),
                   default=0)

    def plan_capped(self, cap: int, cost) -> list:
        """Offsets below `cap` for as many buffers as the greedy placements manage; None for
        the buffers left out. Of the candidate orders, the one leaving out the least `cost`
        (a function of the buffer id) wins, then the lowest top."""
        ids = range(len(self.buffers))
        by_size = sorted(ids, key=lambda i: (-self.buffers[i].size, self.buffers[i].first, i))
        by_time = sorted(ids, key=lambda i: (self.buffers[i].first, -self.buffers[i].size, i))
        candidates = [self._place(by_size, False, cap), self._place(by_size, True, cap),
                      self._place(by_time, True, cap)]
        return min(candidates, key=lambda offs: (
            sum(cost(i) for i, o in enumerate(offs) if o is None), self._top(offs)))

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
    if len(buffers) > 1:         # a sweep over the steps; the loop below only to name one
        if not _clash(buffers, offsets) and not any(o % alignment for o in offsets):
            return
    for i, (a, oa) in enumerate(zip(buffers, offsets)):
        if oa % alignment:
            raise AssertionError(f"buffer {a.name or i} at offset {oa} is not {alignment}-aligned")
        for j in range(i + 1, len(buffers)):
            b, ob = buffers[j], offsets[j]
            overlap = oa < ob + b.size and ob < oa + a.size
            if a.size and b.size and a.overlaps_in_time(b) and overlap:
                raise AssertionError(f"buffers {a.name or i} [{oa}, {oa + a.size}) and "
                                     f"{b.name or j} [{ob}, {ob + b.size}) overlap while both live")


def _clash(buffers: list[Buffer], offsets: list[int]) -> bool:
    """Whether two non-empty buffers live at one step share bytes: at each step, the byte
    ranges of the buffers live there, sorted, must not overlap."""
    at: dict[int, list[tuple[int, int]]] = {}
    for b, o in zip(buffers, offsets):
        if b.size:
            for step in range(b.first, b.last + 1):
                at.setdefault(step, []).append((o, o + b.size))
    for spans in at.values():
        spans.sort()
        reach = spans[0][1]
        for lo, hi in spans[1:]:
            if lo < reach:
                return True
            reach = max(reach, hi)
    return False
