"""Activation buffers spread over several RAM banks, fastest first.

Policy (greedy, bank by bank): a bank keeps every remaining buffer when their arena fits its
capacity, which is then planned exactly as a single arena (so a model that fits the first bank
gets today's plan, byte for byte). Otherwise buffers are moved on to the next bank until it fits:
1. live-bytes bound: while at some step the buffers live together exceed the capacity, move one
   of them: of those that alone cover the excess (else of the largest), the one that raises the
   moved buffers' live peak least (so the next bank stays small: in a chain every other tensor
   moves, and the moved ones share bytes), then the cheapest: the traffic it would send to
   slower memory, bytes x steps that touch it (writer and readers), so the most-used and
   largest buffers are the ones that stay in the fast bank;
2. capped placement: the kept buffers are placed below the capacity by the same greedy orders as
   a single arena; the order that leaves out the least traffic wins, the left-out go on.
The last bank takes whatever remains, uncapped: if that exceeds its capacity, the fit report
says which region overflows. Zero-byte buffers always stay in the first bank.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .arena import ArenaPlanner, Buffer, align_up


def _planner(buffers: Sequence[Buffer], ids: list[int], alignment: int) -> ArenaPlanner:
    p = ArenaPlanner(alignment)
    for i in ids:
        b = buffers[i]
        p.add_buffer(b.size, b.first, b.last, b.name)
    return p


def _evict_to_live_bound(buffers, ids: list[int], cap: int, alignment: int, cost) -> set[int]:
    """Buffers to move so that at no step the bytes live together exceed `cap`."""
    if not ids:
        return set()
    size = np.array([align_up(buffers[i].size, alignment) for i in ids], dtype=np.int64)
    steps = np.arange(max(buffers[i].last for i in ids) + 1)
    live = np.array([(buffers[i].first <= steps) & (steps <= buffers[i].last) for i in ids])
    keep = np.ones(len(ids), dtype=bool)
    while True:
        load = (size * keep) @ live
        t = int(np.argmax(load))                # the first step with the largest load
        excess = int(load[t]) - cap
        if excess <= 0:
            return {ids[j] for j in np.flatnonzero(~keep)}
        moved = (size * ~keep) @ live           # what the slower bank holds per step so far
        peak = int(moved.max())
        grow = lambda j: int((moved + size[j] * live[j]).max()) - peak  # noqa: E731
        here = list(np.flatnonzero(keep & live[:, t]))
        covering = [j for j in here if size[j] >= excess]
        victim = min(covering, key=lambda j: (grow(j), cost(ids[j]), size[j], j)) if covering \
            else max(here, key=lambda j: (size[j], -grow(j), -cost(ids[j]), -j))
        keep[victim] = False


def split_banks(buffers: Sequence[Buffer], capacities: Sequence[int | None], alignment: int,
                uses: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
    """(bank index, offset in that bank) of every buffer and each bank's arena size.
    `capacities[k]` bounds bank k (None: unbounded); `uses[i]` counts the steps touching
    buffer i."""
    n = len(buffers)
    bank, offset = [0] * n, [0] * n
    sizes = [0] * len(capacities)
    remaining = list(range(n))
    cost = lambda i: align_up(buffers[i].size, alignment) * max(uses[i], 1)  # noqa: E731
    for k, cap in enumerate(capacities):
        last = k == len(capacities) - 1
        if not remaining:
            break
        p = _planner(buffers, remaining, alignment)
        if last or cap is None or p.arena_size <= cap:
            keep, offs = remaining, [p.offset(j) for j in range(len(remaining))]
            remaining = []
        else:
            cap = cap // alignment * alignment
            movable = [i for i in remaining if buffers[i].size]
            moved = _evict_to_live_bound(buffers, movable, cap, alignment, cost)
            trial = [i for i in remaining if i not in moved]
            p = _planner(buffers, trial, alignment)
            capped = p.plan_capped(cap, lambda j: cost(trial[j]))
            keep = [i for i, o in zip(trial, capped) if o is not None]
            offs = [o for o in capped if o is not None]
            remaining = [i for i in remaining if i not in set(keep)]
        for i, o in zip(keep, offs):
            bank[i], offset[i] = k, o
        sizes[k] = align_up(max((o + buffers[i].size for i, o in zip(keep, offs)), default=0),
                            alignment)
    return bank, offset, sizes
