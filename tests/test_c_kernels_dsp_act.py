"""DSP conv, depthwise and FULLY_CONNECTED kernels with fused activation ranges, bit-exact.

RELU, RELU6 and RELU_N1_TO_1 give int8 clamps [act_min, act_max] inside [-128, 127]; the DSP
kernels take their fast paths for them too (requantize, SSAT, then clamp: fitml_dsp_clamp.h)
instead of falling back to the portable code. One-op cases from the kernel-test generators,
with output scales where the clamps bite on both sides, batched per family: the written
.tflite under TFLite Micro is the oracle for QEMU on Cortex-M4 and Cortex-M7 (and for the
reference); the int16 layouts and the int8-weight paths both run; and a clamped layer costs
about what the same layer without activation costs (no portable fallback).
"""
from __future__ import annotations

import contextlib
import functools

import numpy as np
import pytest

from oplab import assert_exact
from dsp_cases import batch, conv, depthwise, fully_connected, path_of, random_inputs
from dsp_int8w import int8_only, lowered_int8, needs_arm
from toolchain.arith import kernel_math as km
from toolchain.ir import Graph
from toolchain.ops.interpreter import run_graph
from toolchain.verify.executors import get_executor

CLAMPS = ("RELU6", "RELU", "RELU_N1_TO_1")


def conv_cases(acts) -> list[Graph]:
    rng = np.random.default_rng(931)
    shapes = [((1, 6, 5, 16), 16, (1, 1)),       # pointwise: int16 layout
              ((1, 7, 6, 8), 12, (3, 3)),        # 3x3: int16 layout
              ((1, 9, 7, 3), 8, (3, 3)),         # RGB stem, C_in % 4
              ((1, 4, 4, 128), 72, (1, 1)),      # large filter: int8 path
              ((1, 5, 4, 24), 6, (3, 3))]        # C_out % 4: int8 path
    return [conv(rng, x, cout, k, stride=(1 + i % 2, 1), act=a, s_out_div=80)
            for a in acts for i, (x, cout, k) in enumerate(shapes)]


def depthwise_cases(acts) -> list[Graph]:
    rng = np.random.default_rng(932)
    shapes = [((1, 9, 8, 16), (1, 1)), ((1, 12, 11, 8), (2, 2)), ((2, 5, 6, 32), (1, 2)),
              ((1, 7, 7, 40), (1, 1))]
    return [depthwise(rng, x, stride=s, act=a, s_out_div=40) for a in acts for x, s in shapes]


def fc_cases(acts) -> list[Graph]:
    rng = np.random.default_rng(933)
    shapes = [(1, 64, 32), (1, 40, 10), (2, 37, 9), (1, 128, 16)]
    return [fully_connected(rng, b, k, n, act=a, s_out_div=60) for a in acts for b, k, n in shapes]


FAMILIES = {"conv": conv_cases, "depthwise": depthwise_cases, "fully connected": fc_cases}


def bounds(graph: Graph) -> tuple[int, int]:
    op = graph.ops[0]
    return km.output_bounds(op.attrs["activation"], graph.tensors[op.outputs[0]])


def test_cases_clamp_and_take_the_fast_paths():
    """Every clamp is narrower than int8; conv and FC get fast records or int16 layouts."""
    for name, make in FAMILIES.items():
        for i, graph in enumerate(make(CLAMPS)):
            lo, hi = bounds(graph)
            assert (lo, hi) != (-128, 127), f"{name} case {i}: no clamp"
    paths = [path_of(g) for g in conv_cases(CLAMPS)]
    assert "exact" not in paths and {"int16", "fast"} <= set(paths), paths
    assert {path_of(g) for g in fc_cases(CLAMPS)} == {"int16"}
    assert {lowered_int8(g).kernel for g in fc_cases(CLAMPS)} == {"fitml_fully_connected_s8"}


@functools.lru_cache(maxsize=None)
def oracle(name: str):
    """(batched graph, inputs, TFLM's outputs) of a family's clamped cases, built once."""
    graph = batch(FAMILIES[name](CLAMPS))
    inputs = random_inputs(graph, np.random.default_rng(21))
    ref = run_graph(graph, inputs)
    tflm = [np.asarray(t).reshape(r.shape)
            for t, r in zip(get_executor("tflm")(graph, inputs).outputs, ref)]
    for i, (want, got) in enumerate(zip(tflm, ref)):
        assert_exact(want, got, f"{name}: reference vs TFLM, case {i}")
    return graph, inputs, tflm


@needs_arm
@pytest.mark.parametrize("name", list(FAMILIES))
def test_clamps_bite(name):
    """TFLM's outputs sit on the clamp bounds in most cases: the cases test the clamp."""
    graph, _, tflm = oracle(name)
    hit_lo = hit_hi = 0
    for want, op in zip(tflm, graph.ops):
        lo, hi = km.output_bounds(op.attrs["activation"], graph.tensors[op.outputs[0]])
        hit_lo += lo > -128 and bool(np.any(want == lo))
        hit_hi += hi < 127 and bool(np.any(want == hi))
    assert hit_lo >= len(graph.ops) // 2 and hit_hi >= len(graph.ops) // 3, (hit_lo, hit_hi)


@needs_arm
@pytest.mark.parametrize("plain", [False, True], ids=["layouts", "int8-weights"])
@pytest.mark.parametrize("name", list(FAMILIES))
def test_clamped_kernels_equal_tflm(name, plain):
    graph, inputs, tflm = oracle(name)
    for core in ("cortex-m4", "cortex-m7"):
        with int8_only(graph) if plain else contextlib.nullcontext():
            got = get_executor("qemu")(graph, inputs, target=core).outputs
        for i, (want, g) in enumerate(zip(tflm, got)):
            assert_exact(want, g, f"{name} ({'int8 weights' if plain else 'layouts'}) on "
                         f"{core}: case {i} ({graph.ops[i].attrs['activation']})")


# A clamped layer on its DSP path costs at most this much more than without activation (the
# clamp pass over the outputs); the portable fallback costs several times as much.
MAX_CLAMP_COST = {"conv": 1.10, "depthwise": 1.30, "fully connected": 1.10}


@needs_arm
@pytest.mark.parametrize("name", list(FAMILIES))
def test_clamps_keep_the_dsp_speed(name):
    def instructions(acts) -> int:
        graph = batch(FAMILIES[name](acts))
        inputs = random_inputs(graph, np.random.default_rng(21))
        return get_executor("qemu")(graph, inputs, target="cortex-m4").stats["instructions"]
    base, relu6 = instructions(["NONE"]), instructions(["RELU6"])
    assert relu6 <= MAX_CLAMP_COST[name] * base, (name, base, relu6)
