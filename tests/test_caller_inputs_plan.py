"""Caller-owned inputs (`--input-buffer caller`) on small graphs built to tempt the planner: the
model reads its inputs in place from the caller's buffers, so they take no arena bytes and are
never written. The planner leaves them out, no in-place op or fused residual lands on them, a
graph output aliasing one is copied out, the generated API takes the caller's pointers, and the
C equals the reference on the host (ASan/UBSan)."""
from __future__ import annotations

import numpy as np
import pytest

from oplab import assert_exact
from toolchain.backends.c import emit_c, lower
from toolchain.backends.cmemory import caller_inputs, scratch_free
from toolchain.ir import Graph, Op, QuantParams, Tensor
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph


def q(scale, zp=0):
    return QuantParams(scale, zp)


def small_graph(kind: str) -> Graph:
    """Small int8 graphs whose inputs tempt the planner to write over them:
    "add": ADD(x, x) (in place when x dies), then a conv;
    "residual": conv(x) + x (fused into one conv writing over the residual under --memory small);
    "reshape_out": x reshaped is the graph output (an alias of the caller's buffer)."""
    rng = np.random.default_rng(5)
    x = Tensor("x", (1, 8, 8, 4), "int8", quant=q(0.05, -3))
    w = rng.integers(-127, 128, (4, 3, 3, 4)).astype(np.int8)
    wt = Tensor("w", w.shape, "int8", data=w,
                quant=QuantParams(np.full(4, 0.01, np.float32), np.zeros(4, np.int64), 0))
    b = Tensor("b", (4,), "int32", data=rng.integers(-500, 500, 4).astype(np.int32),
               quant=QuantParams(np.full(4, 0.0005, np.float32), np.zeros(4, np.int64), 0))
    conv_attrs = {"padding": "SAME", "stride": (1, 1), "dilation": (1, 1)}
    tensors, ops = [x, wt, b], []
    if kind == "add":
        tensors += [Tensor("s", x.shape, "int8", quant=q(0.1, 2)),
                    Tensor("y", x.shape, "int8", quant=q(0.2, 1))]
        ops += [Op("ADD", ("x", "x"), ("s",), {}), Op("CONV_2D", ("s", "w", "b"), ("y",),
                                                         conv_attrs)]
        out = "y"
    elif kind == "residual":
        tensors += [Tensor("c", x.shape, "int8", quant=q(0.2, 0)),
                    Tensor("y", x.shape, "int8", quant=q(0.25, -1))]
        ops += [Op("CONV_2D", ("x", "w", "b"), ("c",), conv_attrs),
                Op("ADD", ("c", "x"), ("y",), {})]
        out = "y"
    else:
        shape = Tensor("shape", (2,), "int32", data=np.array([1, 256], np.int32))
        tensors += [shape, Tensor("r", (1, 256), "int8", quant=x.quant)]
        ops += [Op("RESHAPE", ("x", "shape"), ("r",), {"new_shape": (1, 256)})]
        out = "r"
    g = Graph.build(tensors, ops, ["x"], [out])
    g.validate()
    return g


def inputs_of(graph: Graph, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, graph.tensors[n].shape).astype(np.int8)
            for n in graph.inputs]


@pytest.mark.parametrize("kind", ["add", "residual", "reshape_out"])
@pytest.mark.parametrize("small", [False, True])
def test_plan_keeps_caller_inputs_out_of_the_arena_and_unwritten(kind, small):
    g = small_graph(kind)
    with scratch_free(small):
        inside = lower(g).plan
        low = lower(g, caller_inputs=True)
    plan = low.plan
    assert plan.external.get("x") == "x" and "x" not in plan.offsets
    assert all(b.name != "x" for b in plan.buffers)
    # nothing the model writes shares the caller's buffer: only pure aliases map to it
    written = {op.outputs[0] for op, c in zip(low.graph.ops, low.calls) if c.alias_of is None}
    assert not written & set(plan.external), f"{kind}: writes into the caller's input"
    assert all(o in plan.offsets for o in low.graph.outputs)   # outputs stay in the arena
    assert plan.arena_size <= inside.arena_size
    plan.check()


def test_arena_shrinks_by_the_input_when_it_is_live_at_the_peak():
    g = small_graph("residual")           # x lives until the ADD, beside the conv's output
    x = g.tensors["x"].nbytes
    assert lower(g).plan.arena_size - lower(g, caller_inputs=True).plan.arena_size == x
    g = small_graph("add")                # x dies at the first op, under the conv's peak
    assert lower(g).plan.arena_size == lower(g, caller_inputs=True).plan.arena_size


def test_generated_api_takes_the_callers_pointers():
    with caller_inputs():
        files = emit_c(small_graph("reshape_out"))
    h, c = files["model.h"], files["model.c"]
    assert "#define MODEL_CALLER_INPUTS 1" in h
    assert "int model_invoke(uint8_t *arena, const void *const inputs[]);" in h
    assert "model_input(" not in h + c                 # no arena slot to write inputs into
    assert "inputs[0]" in c and "memmove(" in c         # the output alias is copied out
    plain = emit_c(small_graph("reshape_out"))
    assert "#define MODEL_CALLER_INPUTS 0" in plain["model.h"]
    assert "int model_invoke(uint8_t *arena);" in plain["model.h"]


@pytest.mark.parametrize("kind", ["add", "residual", "reshape_out"])
@pytest.mark.parametrize("small", [False, True])
def test_small_graphs_bit_exact_on_host(kind, small):
    g = small_graph(kind)
    host = get_executor("host")
    with caller_inputs(), scratch_free(small):
        for seed in range(3):
            ins = inputs_of(g, seed)
            got = host(g, ins)
            assert_exact(run_graph(g, ins)[0], got.outputs[0], f"{kind} seed {seed}")
            # the harness hands the same buffers back: the model must not have written them
            assert_exact(inputs_of(g, seed)[0], ins[0], f"{kind}: input changed")
