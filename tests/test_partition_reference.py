"""Patch-based partitioning (PATCHED_STAGE, passes/partition.py): the patched reference equals
the unsplit ops' reference bit for bit on random small CNNs (shapes, strides, dilations,
paddings, grids, residual branches), a wrong border padding is caught, the geometry by hand,
the MACs estimate, the stage checks; the generated C equals it on the host (ASan/UBSan)."""
from __future__ import annotations


import numpy as np
import pytest

from oplab import assert_exact
from partition_cnns import check_reference, random_cnn, random_stages
from toolchain.ir import GraphError, Op, Tensor
from toolchain.ops import patch_boxes as pb
from toolchain.ops import patch_geometry as pg
from toolchain.ops.patched_stage import KIND
from toolchain.passes.partition import apply, apply_stages, parse_mode, unpartition
from toolchain.passes.partition_search import estimate
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph


@pytest.mark.parametrize("seed", range(24))
def test_patched_reference_equals_unsplit_on_random_cnns(seed):
    graph = random_cnn(seed)
    rng = np.random.default_rng(1000 + seed)
    stages = random_stages(graph, rng, 6)
    assert stages, "no valid stage in this CNN"
    for a, b, g, new in stages:
        assert [op.kind for op in unpartition(new).ops] == [op.kind for op in graph.ops]
        check_reference(graph, new, rng, f"seed {seed} ops {a}..{b} grid {g}")


@pytest.mark.parametrize("seed", range(6))
def test_patched_reference_float_cnns(seed):
    graph = random_cnn(100 + seed, "float32")
    rng = np.random.default_rng(seed)
    for a, b, g, new in random_stages(graph, rng, 3):
        check_reference(graph, new, rng, f"float seed {seed} ops {a}..{b} grid {g}", 1)


def test_a_wrong_border_padding_is_caught(monkeypatch):
    # the comparison must see a geometry that pads border patches wrongly: with the column
    # padding of every windowed read dropped, some stage of these CNNs has to differ
    cases = [(graph, s) for seed in range(4) for graph in [random_cnn(seed)]
             for s in random_stages(graph, np.random.default_rng(seed), 6) if s[2][1] > 1]
    real = pg.read_of

    def shifted(op, tensors, name, source, out):
        r = real(op, tensors, name, source, out)
        return pg.Read(r.tensor, r.source, r.box, r.origin, r.view, (r.pad[0], 0))
    monkeypatch.setattr(pg, "read_of", shifted)
    failures = 0
    for graph, (a, b, g, new) in cases:
        try:
            check_reference(graph, new, np.random.default_rng(0), "mutant")
        except AssertionError:
            failures += 1
    assert failures > len(cases) // 3, f"{failures} of {len(cases)} mutants caught"


def test_geometry_by_hand():
    # CONV 3x3 stride 2 SAME on 7x7 -> 4x4 (TFLite: total pad 2, 1 before); 2x2 grid of the
    # output: rows [0, 2) and [2, 4); the top patch reads input rows [0, 4) with 1 row of
    # padding above, the bottom one rows [3, 7) with none above and 1 below (past the view)
    x = Tensor("x", (1, 7, 7, 1), "float32")
    w = Tensor("w", (1, 3, 3, 1), "float32", data=np.ones((1, 3, 3, 1), np.float32))
    y = Tensor("y", (1, 4, 4, 1), "float32")
    op = Op("CONV_2D", ["x", "w", ""], ["y"], dict(padding="SAME", stride=(2, 2)))
    tensors = {"x": x, "w": w, "y": y}
    assert pb.window(op, tensors).pad == (1, 1)
    assert pb.split(7, 3) == [(0, 3), (3, 5), (5, 7)]
    top, bottom = [pg.patch_steps([op], tensors, ("x",), "y", box)[0]
                   for box in pb.grid_boxes(y, (2, 1))]
    assert top.reads[0].box == pb.Box(0, 4, 0, 7) and top.reads[0].pad == (1, 1)
    assert top.reads[0].view == (7, 7)
    assert bottom.reads[0].box == pb.Box(3, 7, 0, 7) and bottom.reads[0].pad == (0, 1)
    assert bottom.reads[0].view == (4, 7)          # taps below row 7 are padding
    # a 2x2 grid: the right column's window needs right padding, so its view starts at the
    # image's first column with a negative column pad (the kernel's width is its pitch)
    right = pg.patch_steps([op], tensors, ("x",), "y", pb.Box(0, 2, 2, 4))[0].reads[0]
    assert right.box == pb.Box(0, 4, 3, 7) and right.origin == (0, 0)
    assert right.pad == (1, -3) and right.view == (7, 7)


def test_estimate_equals_exact_patch_macs():
    from toolchain.ops import registry
    from toolchain.ops.registry import Node
    for seed in range(8):
        graph = random_cnn(seed)
        for a, b, g, new in random_stages(graph, np.random.default_rng(seed), 4):
            stage = new.ops[a]
            assert estimate(new, stage)[0] == registry.get(KIND).macs(Node.of(new, stage))


def test_stage_checks_reject_what_cannot_run_in_patches():
    graph = random_cnn(5)
    new = apply(graph, 0, len(graph.ops) - 1, (2, 2))
    stage = new.ops[0]
    bad = [stage.replace(attrs=dict(stage.attrs, grid=(99, 1))),
           stage.replace(attrs=dict(stage.attrs, ops=stage.attr("ops")[:-1]))]
    for op in bad:
        with pytest.raises(GraphError):
            new.replace(ops=(op,) + new.ops[1:]).validate()
    assert parse_mode("4x2") == (4, 2) and parse_mode("AUTO") == "auto"
    for spec in ("1x1", "4x", "x4", "0x3", "many"):
        with pytest.raises(ValueError):
            parse_mode(spec)


# ------------------------------------------------------------------ generated C

@pytest.mark.parametrize("seed", [0, 1, 4, 7])
def test_random_cnn_stages_bit_exact_in_host_c(seed):
    graph = random_cnn(seed)
    rng = np.random.default_rng(50 + seed)
    stages = random_stages(graph, rng, 3)
    a, b, g, new = stages[0]
    more = [s for s in stages[1:] if s[0] > b]          # a second, disjoint stage if any
    if more:
        new = apply_stages(graph, [(a, b, g), more[0][:3]])
    x = rng.integers(-128, 128, graph.tensors[graph.inputs[0]].shape).astype(np.int8)
    want = run_graph(graph, [x])[0]
    assert_exact(want, get_executor("host")(new, [x]).outputs[0], f"seed {seed}")
