"""Arena planner: hand-computed offsets, and the no-overlap invariant on random lifetimes."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from toolchain.plan.arena import ArenaPlanner, check_no_overlap


def offsets(planner):
    return [planner.offset(i) for i in range(len(planner.buffers))]


def test_hand_computed_chain():
    # a chain A(0..1) -> B(1..2) -> C(2..3): A and C never live together, so C reuses A's bytes
    p = ArenaPlanner(alignment=16)
    a = p.add_buffer(1000, 0, 1, "A")
    b = p.add_buffer(600, 1, 2, "B")
    c = p.add_buffer(900, 2, 3, "C")
    assert (p.offset(a), p.offset(b), p.offset(c)) == (0, 1008, 0)
    assert p.arena_size == 1616


def test_hand_computed_first_fit_gap():
    # big X lives 0..3; Y (0..0) and Z (2..3) share the region above X; W (1..1) fits in Y's gap
    p = ArenaPlanner(alignment=4)
    x = p.add_buffer(100, 0, 3)
    y = p.add_buffer(40, 0, 0)
    z = p.add_buffer(30, 2, 3)
    w = p.add_buffer(40, 1, 1)
    assert offsets(p) == [0, 100, 100, 100]
    assert p.arena_size == 140
    assert (x, y, z, w) == (0, 1, 2, 3)


def test_alignment_rounds_offsets_and_size():
    p = ArenaPlanner(alignment=16)
    p.add_buffer(10, 0, 0)
    p.add_buffer(10, 0, 0)
    assert offsets(p) == [0, 16]
    assert p.arena_size == 32


buffers = st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 30), st.integers(0, 10)),
                   min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(buffers, st.sampled_from([1, 4, 8, 16]))
def test_random_lifetimes_never_overlap(spec, alignment):
    p = ArenaPlanner(alignment)
    for size, first, length in spec:
        p.add_buffer(size, first, first + length)
    offs = offsets(p)
    check_no_overlap(p.buffers, offs, alignment)
    peak = max(sum(b.size for b in p.buffers if b.first <= t <= b.last) for t in range(41))
    assert p.arena_size >= peak
