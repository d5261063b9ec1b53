"""The arena planner's anchored buffers (patch stages): a buffer takes its leader's offset, plans
keep the no-overlap invariant, and a stage's output may be laid over its input."""
from __future__ import annotations


import numpy as np
import pytest

from conftest import shared_model
from partition_cnns import KWS, check_reference
from toolchain.frontends.tflite import load_tflite
from toolchain.ops.patched_stage import KIND
from toolchain.passes.partition import apply
from toolchain.backends.cpartition import arena_peak
from toolchain.plan.arena import ArenaPlanner, Buffer, check_no_overlap


def test_anchored_buffer_takes_its_leaders_offset():
    # A (100 B, steps 0-1) is consumed at step 1 by an op writing B (80 B, steps 2-3) over it;
    # E (120 B) lives at step 3 with B. By size first fit, E goes to 0 first and A must move
    # above it (B's conflict counts for A); the best plan puts A and B at 0 and E after B
    p = ArenaPlanner(16)
    e = p.add_buffer(120, 3, 3, "E")
    a = p.add_buffer(100, 0, 1, "A")
    b = p.add_buffer(80, 2, 3, "B", anchor=a)
    first_fit = p._place([e, a, b], False)
    assert first_fit[e] == 0 and first_fit[a] == first_fit[b] == 128
    assert (p.offset(a), p.offset(b), p.offset(e)) == (0, 0, 80) and p.arena_size == 208
    bufs = [Buffer(120, 3, 3), Buffer(100, 0, 1), Buffer(80, 2, 3)]
    check_no_overlap(bufs, [p.offset(i) for i in range(3)], 16)
    with pytest.raises(ValueError):
        p.add_buffer(200, 4, 4, "too big", anchor=a)
    with pytest.raises(ValueError):
        p.add_buffer(10, 1, 2, "overlapping", anchor=a)


@pytest.mark.parametrize("seed", range(20))
def test_anchored_plans_keep_the_invariant(seed):
    rng = np.random.default_rng(seed)
    p, bufs = ArenaPlanner(16), []
    for i in range(int(rng.integers(3, 14))):
        first = int(rng.integers(0, 10))
        size, last = int(rng.integers(0, 300)), first + int(rng.integers(0, 4))
        leaders = [j for j, b in enumerate(bufs) if j not in p.anchors and b.last < first
                   and b.size >= size and all(bufs[f].last < first or bufs[f].first > last
                                              for f, lead in p.anchors.items() if lead == j)]
        anchor = int(rng.choice(leaders)) if leaders and rng.random() < 0.5 else None
        p.add_buffer(size, first, last, f"b{i}", anchor=anchor)
        bufs.append(Buffer(size, first, last, f"b{i}"))
    offsets = [p.offset(i) for i in range(len(bufs))]
    check_no_overlap(bufs, offsets, 16)
    assert all(offsets[f] == offsets[lead] for f, lead in p.anchors.items())
    assert p.arena_size >= max(o + b.size for o, b in zip(offsets, bufs))


def test_stage_output_laid_over_its_input():
    g = load_tflite(shared_model(KWS))
    new = apply(g, 1, 2, (5, 1))                     # 25x5x64 -> 25x5x64: in place
    stage = new.ops[1]
    assert stage.attr("in_place")
    from toolchain.backends.c import lower
    low = lower(new)
    x, y = stage.inputs[0], stage.outputs[0]
    assert low.plan.offsets[x] == low.plan.offsets[y]
    assert low.plan.buffers and arena_peak(new) == low.plan.arena_size
    off = apply(g, 1, 2, (5, 1)).replace(ops=tuple(
        op.replace(attrs=dict(op.attrs, in_place=False)) if op.kind == KIND else op
        for op in new.ops))
    assert arena_peak(new) < arena_peak(off)
    check_reference(g, new, np.random.default_rng(0), "kws in place")
