"""Patch-based partitioning of int16 (16x8) graphs: the random CNNs of tests/partition_cnns.py
turned 16x8 (int16 activations with zero point 0, int64 biases); a PATCHED_STAGE's reference
equals the unsplit graph's, and so does its generated C on the host."""
from __future__ import annotations

import numpy as np
import pytest

from oplab import assert_exact
from partition_cnns import random_cnn, random_stages
from toolchain.ir import Graph, GraphError, Op, QuantParams
from toolchain.ops import patch_boxes as pb
from toolchain.passes.partition import apply, apply_stages
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph


def to_16x8(graph: Graph) -> Graph:
    """int8 activations -> int16 at 1/256 of the scale (same real range, 256x the codes), zero
    points 0; int32 biases -> int64 at the new s_in * s_w."""
    tensors = {}
    for n, t in graph.tensors.items():
        if t.dtype == "int8" and not t.is_const:
            t = t.replace(dtype="int16", quant=QuantParams(t.quant.s / 256, 0))
        tensors[n] = t
    for op in graph.ops:
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(op.inputs) > 2:
            b, w = tensors[op.inputs[2]], tensors[op.inputs[1]]
            s = (np.float32(tensors[op.inputs[0]].quant.s) * w.quant.scale).astype(np.float32)
            tensors[b.name] = b.replace(dtype="int64", data=b.data.astype(np.int64) * 256,
                                        quant=QuantParams(s, np.zeros(s.size, np.int64), 0))
    return graph.replace(tensors=tensors).validate()


def int16_input(graph: Graph, rng) -> list[np.ndarray]:
    return [rng.integers(-32768, 32768, graph.tensors[graph.inputs[0]].shape).astype(np.int16)]


@pytest.mark.parametrize("seed", range(8))
def test_patched_int16_reference_equals_unsplit(seed):
    graph = to_16x8(random_cnn(seed))
    assert {t.dtype for t in graph.tensors.values() if not t.is_const} == {"int16"}
    rng = np.random.default_rng(2000 + seed)
    stages = random_stages(graph, rng, 5)
    assert stages, "no valid stage in this CNN"
    for a, b, g, new in stages:
        assert any(op.kind == "PATCHED_STAGE" for op in new.ops)
        for k in range(2):
            x = int16_input(graph, rng)
            assert_exact(run_graph(graph, x)[0], run_graph(new, x)[0],
                         f"seed {seed} ops {a}-{b} grid {g} case {k}")


@pytest.mark.parametrize("seed", [0, 1, 4, 7])
def test_patched_int16_stages_bit_exact_in_host_c(seed):
    graph = to_16x8(random_cnn(seed))
    rng = np.random.default_rng(60 + seed)
    stages = random_stages(graph, rng, 3)
    a, b, g, new = stages[0]
    more = [s for s in stages[1:] if s[0] > b]
    if more:
        new = apply_stages(graph, [(a, b, g), more[0][:3]])
    x = int16_input(graph, rng)
    assert_exact(run_graph(graph, x)[0], get_executor("host")(new, x).outputs[0],
                 f"seed {seed}")


def test_int16_stage_refuses_a_sub_op_without_int16_patch_kernel():
    def conv_then_mul(graph):
        first = graph.ops[0]
        mul = Op("MUL", [first.outputs[0], first.outputs[0]], ["sq"], dict(activation="NONE"))
        y = graph.tensors[first.outputs[0]]
        return Graph.build([*graph.tensors.values(), y.replace(name="sq")], [first, mul],
                           graph.inputs, ["sq"]).validate()

    int8 = conv_then_mul(random_cnn(3))
    assert "MUL" in pb.SUPPORTED and apply(int8, 0, 1, (2, 2)) is not None
    assert apply(to_16x8(int8), 0, 1, (2, 2)) is None
    stage = apply(int8, 0, 1, (2, 2)).ops[0]
    int16 = to_16x8(int8)
    with pytest.raises(GraphError, match="no int16 patch kernel"):
        Graph.build(int16.tensors.values(), [stage.replace(attrs={**stage.attrs, "tensors": tuple(
            int16.tensors[t.name] for t in stage.attr("tensors"))})], int16.inputs,
            ["sq"]).validate()
