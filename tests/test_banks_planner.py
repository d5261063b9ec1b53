"""Activations spread over RAM banks, the planner: hand-computed multi-bank plans (what moves,
where, the banks' sizes), random lifetimes (no overlap per bank, every bounded bank within its
capacity, today's single-arena plan whenever the first bank holds everything) and a real
model's plan over two banks."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_model
from toolchain import api
from toolchain.backends.c import lower
from toolchain.backends.cshare import shared_storage
from toolchain.plan.arena import ArenaPlanner, Buffer, align_up, check_no_overlap
from toolchain.plan.banks import split_banks
from toolchain.plan.memory import plan_memory
from bank_boards import KWS


# --- planner -----------------------------------------------------------------------------------

def test_hand_computed_chain_over_two_banks():
    # A(0..1) -> B(1..2) -> C(2..3): one arena needs A+B = 1008 + 608 = 1616 B. With 1200 B in
    # the fast bank, the peak at step 1 exceeds it by 416: A and B each cover that, B is cheaper
    # (608 B x 2 steps < 1008 B x 2), so B moves; A and C share offset 0 in the fast bank.
    bufs = [Buffer(1000, 0, 1, "A"), Buffer(600, 1, 2, "B"), Buffer(900, 2, 3, "C")]
    bank, offset, sizes = split_banks(bufs, [1200, None], 16, [2, 2, 2])
    assert (bank, offset, sizes) == ([0, 1, 0], [0, 0, 0], [1008, 608])


def test_chain_moves_every_other_tensor():
    # T0..T5 (1008 B each) live over [i, i+1]: every step holds two, 1500 B hold one. Moving T0
    # then T2 and T4 (which never live together) keeps the slow bank at one tensor; moving T1
    # at step 2 would have doubled it
    bufs = [Buffer(1000, i, i + 1, f"T{i}") for i in range(6)]
    bank, offset, sizes = split_banks(bufs, [1500, None], 16, [2] * 6)
    assert (bank, offset, sizes) == ([1, 0, 1, 0, 1, 0], [0] * 6, [1008, 1008])


def test_most_used_buffer_stays_in_the_fast_bank():
    bufs = [Buffer(400, 0, 1, "hot"), Buffer(400, 0, 1, "cold")]
    assert split_banks(bufs, [500, None], 16, [5, 1])[0] == [0, 1]
    assert split_banks(bufs, [500, None], 16, [1, 5])[0] == [1, 0]


def test_no_single_buffer_covers_the_excess():
    # three 160 B buffers live together, 200 B (-> 192 aligned) of fast bank: 480 - 192 = 288 B
    # too many; none covers it, so the largest (first on ties) moves; then 128 B too many and
    # each covers it: the cheapest (first on ties) moves
    bufs = [Buffer(160, 0, 0, f"x{i}") for i in range(3)]
    bank, offset, sizes = split_banks(bufs, [200, None], 16, [1, 1, 1])
    assert (bank, sizes) == ([1, 1, 0], [160, 320])
    assert offset[2] == 0 and sorted(offset[:2]) == [0, 160]


def test_three_banks_cascade():
    # four 96 B buffers live together; banks of 100 (-> 96), 200 (-> 192) and unbounded
    bufs = [Buffer(96, 0, 0, f"x{i}") for i in range(4)]
    bank, offset, sizes = split_banks(bufs, [100, 200, None], 16, [1] * 4)
    assert (bank, offset, sizes) == ([2, 1, 1, 0], [0, 0, 96, 0], [96, 192, 96])


def test_everything_fits_the_first_bank_gives_the_single_arena_plan():
    p = ArenaPlanner(16)
    for size, first, last in ((1000, 0, 1), (600, 1, 2), (900, 2, 3), (50, 0, 3)):
        p.add_buffer(size, first, last)
    bank, offset, sizes = split_banks(p.buffers, [p.arena_size, None], 16, [1] * 4)
    assert bank == [0] * 4 and sizes == [p.arena_size, 0]
    assert offset == [p.offset(i) for i in range(4)]


specs = st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 20), st.integers(0, 8)),
                 min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(specs, st.lists(st.integers(0, 6000), min_size=1, max_size=3),
       st.sampled_from([4, 16]), st.integers(0, 2 ** 32 - 1))
def test_random_plans_hold_the_invariants(spec, caps, alignment, seed):
    bufs = [Buffer(s, f, f + n, f"b{i}") for i, (s, f, n) in enumerate(spec)]
    uses = list(np.random.default_rng(seed).integers(1, 5, len(bufs)))
    capacities = [*caps, None]
    bank, offset, sizes = split_banks(bufs, capacities, alignment, uses)
    for k, cap in enumerate(capacities):
        mine = [i for i in range(len(bufs)) if bank[i] == k]
        check_no_overlap([bufs[i] for i in mine], [offset[i] for i in mine], alignment)
        assert sizes[k] == align_up(max((offset[i] + bufs[i].size for i in mine), default=0),
                                    alignment)
        if cap is not None:
            assert sizes[k] <= cap, f"bank {k}: {sizes[k]} B over its {cap} B"
    single = ArenaPlanner(alignment)
    for b in bufs:
        single.add_buffer(b.size, b.first, b.last)
    if single.arena_size <= caps[0]:
        assert bank == [0] * len(bufs) and offset == [single.offset(i) for i in range(len(bufs))]


def test_plan_memory_over_banks_on_a_real_model():
    graph = api.load(shared_model(KWS))
    low = lower(graph)
    one, shares = low.plan, shared_storage(low.graph, low.calls)
    same = plan_memory(low.graph, lambda i: low.calls[i].scratch_bytes, 16, shares,
                       [("fast", one.arena_size), ("slow", 1 << 20)])
    assert same.offsets == one.offsets and same.arena_size == one.arena_size
    assert not same.tensor_banks and [b.size for b in same.banks] == [one.arena_size, 0]
    split = plan_memory(low.graph, lambda i: low.calls[i].scratch_bytes, 16, shares,
                        [("fast", 10000), ("slow", 1 << 20)])
    split.check()                                       # no overlap per bank, all aligned
    assert split.arena_size <= 10000 and split.banks[1].size > 0
    assert split.total_size == split.arena_size + split.banks[1].size >= one.arena_size
    assert set(split.tensor_banks.values()) == {1}
    moved = sum(b.size for b in split.buffers if split.buffer_bank(b) == 1)
    assert moved >= split.banks[1].size
