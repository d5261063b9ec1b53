"""Operator order and the planner on graphs with branches: lower peaks, never overlapping
buffers, and generated C that still computes the reference's numbers."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oplab
from toolchain.backends.c import lower
from toolchain.ir import Graph, Op
from toolchain.passes.schedule import live_peak, schedule_for_memory
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph


def conv(name, x, cout, rng):
    w = oplab.const(f"{name}_w", rng.normal(0, 0.3, (cout, 1, 1, x.shape[3])).astype(np.float32))
    b = oplab.const(f"{name}_b", np.zeros(cout, np.float32))
    out = oplab.out_like("CONV_2D", [x, w, b], {}, name=name)
    return [w, b, out], Op("CONV_2D", [x.name, w.name, b.name], [name])


def two_branches(rng) -> Graph:
    """x -> big1 -> small1 and x -> big2 -> small2, added. Written branch-interleaved (big1,
    big2, small1, small2): both big tensors live at once unless the order changes."""
    x = oplab.act("x", (1, 8, 8, 4), "float32")
    tensors, ops = [x], []
    made = {}
    for name, src, cout in [("big1", "x", 64), ("big2", "x", 64), ("small1", "big1", 2),
                            ("small2", "big2", 2)]:
        ts, op = conv(name, made.get(src, x), cout, rng)
        made[name] = ts[-1]
        tensors += ts
        ops.append(op)
    y = oplab.act("y", (1, 8, 8, 2), "float32")
    ops.append(Op("ADD", ["small1", "small2"], ["y"], {"activation": "NONE"}))
    return Graph.build(tensors + [y], ops, ["x"], ["y"]).validate()


def test_schedule_lowers_the_peak_of_interleaved_branches():
    graph = two_branches(np.random.default_rng(0))
    better = schedule_for_memory(graph).validate()
    before, after = live_peak(graph), live_peak(better)
    # bytes: x 1,024; big 16,384; small 512. Interleaved: x + big1 + big2 live at once.
    assert before == 1024 + 16384 + 16384
    # greedy: big1, small1, big2, small2: one big at a time, x kept for big2
    assert [op.outputs[0] for op in better.ops] == ["big1", "small1", "big2", "small2", "y"]
    assert after == 1024 + 16384 + 512
    assert lower(graph).plan.arena_size <= after + 64        # lower() schedules too
    x = np.random.default_rng(1).normal(size=(1, 8, 8, 4)).astype(np.float32)
    np.testing.assert_array_equal(run_graph(graph, [x])[0], run_graph(better, [x])[0])


def test_chains_are_left_alone():
    g = oplab.one_op("RELU", [oplab.act("a", (1, 4), "float32")], {},
                     oplab.act("b", (1, 4), "float32"))
    assert schedule_for_memory(g) is g


@st.composite
def random_dag(draw):
    """A random int8 DAG of ADD / MUL / RELU / RESHAPE-free elementwise ops on one shape, each
    op reading one or two earlier tensors: branches, joins, fan-out, dead-end-free."""
    n_ops = draw(st.integers(2, 9))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    shape = (1, draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 8)))

    def act(name):
        return oplab.act(name, shape, scale=float(rng.uniform(0.02, 0.1)),
                         zp=int(rng.integers(-20, 20)))

    tensors, ops, avail = [act("in0")], [], ["in0"]
    for i in range(n_ops):
        kind = draw(st.sampled_from(["ADD", "MUL", "RELU", "SUB"]))
        a = draw(st.sampled_from(avail))
        ins = [a] if kind == "RELU" else [a, draw(st.sampled_from(avail))]
        out = act(f"t{i}")
        tensors.append(out)
        ops.append(Op(kind, ins, [out.name], {} if kind == "RELU" else {"activation": "NONE"}))
        avail.append(out.name)
    used = {n for op in ops for n in op.inputs}
    outputs = [n for n in avail[1:] if n not in used] or [avail[-1]]
    return Graph.build(tensors, ops, ["in0"], outputs).validate()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dag(), st.integers(0, 1000))
def test_random_dags_plan_without_overlap_and_run_exactly_in_c(graph, seed):
    low = lower(graph)
    low.plan.check()                          # no two live buffers share bytes; aligned
    x = np.random.default_rng(seed).integers(-128, 128, graph.tensors["in0"].shape,
                                             dtype=np.int8)
    expected = run_graph(graph, [x])
    got = get_executor("host")(graph, [x]).outputs
    for k, (e, g) in enumerate(zip(expected, got)):
        oplab.assert_exact(e, g, f"output {k}")
