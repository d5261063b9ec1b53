"""Per-step views of an arena plan, computed in one sweep over the buffers rather than one scan
of every buffer per step (the partition search asks them of every candidate it plans)."""
from __future__ import annotations

from typing import Sequence

from .arena import Buffer


def live_per_step(buffers: Sequence[Buffer], steps: int) -> list[int]:
    """Bytes of the buffers live at each step 0..steps-1 (first <= step <= last)."""
    change = [0] * (steps + 1)
    for b in buffers:
        lo, hi = max(b.first, 0), min(b.last, steps - 1)
        if lo <= hi:
            change[lo] += b.size
            change[hi + 1] -= b.size
    out, live = [], 0
    for step in range(steps):
        live += change[step]
        out.append(live)
    return out


def top_per_step(buffers: Sequence[Buffer], offsets: Sequence[int], steps: int) -> list[int]:
    """At each step, the highest byte (offset + size) of the non-empty buffers live there (0 when
    none is): buffers from the highest down paint the steps not yet painted."""
    top = [0] * steps
    after = list(range(steps + 1))       # step -> the first unpainted step at or after it

    def unpainted(i: int) -> int:
        while after[i] != i:
            after[i] = after[after[i]]
            i = after[i]
        return i
    spans = sorted(((off + b.size, max(b.first, 0), min(b.last, steps - 1))
                    for b, off in zip(buffers, offsets) if b.size), reverse=True)
    for end, lo, hi in spans:
        i = unpainted(lo) if lo <= hi else hi + 1
        while i <= hi:
            top[i], after[i] = end, i + 1
            i = unpainted(i + 1)
    return top
