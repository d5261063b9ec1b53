"""Kernel variants: the registry picks a weighted op's reference and C kernel from its
(input, filter) dtype pair, through the kernels registered with `registry.variant`."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.ir import Node
from toolchain.ops import registry
from toolchain.ops.registry import HYBRID, INT8x4, INT16x8

WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@pytest.mark.parametrize("kind", WEIGHTED)
def test_weighted_ops_register_int16_int4_and_hybrid_kernels(kind):
    table = registry.variants(kind)
    want = {("reference", d): "int16" for d in INT16x8}
    want |= {("lower_c", d): "int16_lowering" for d in INT16x8}
    want |= {("lower_c", d): "int4_lowering" for d in INT8x4}     # reference: the int8 one
    want |= {("reference", d): "hybrid" for d in HYBRID}
    want |= {("lower_c", d): "hybrid_lowering" for d in HYBRID}
    assert {key: f.__module__.rsplit(".", 1)[1] for key, f in table.items()} == want


def _fc_node(x_dtype: str, w_dtype: str) -> Node:
    """A validated 1x16 -> 4 FULLY_CONNECTED node with these input and filter dtypes."""
    rng = np.random.default_rng(0)
    x = oplab.act("x", (1, 16), x_dtype)
    if w_dtype == "float32":
        w = oplab.const("w", rng.standard_normal((4, 16)).astype(np.float32))
    else:
        low = -8 if w_dtype == "int4" else -127
        w = oplab.const("w", rng.integers(low, -low, (4, 16)).astype(np.int8), scale=0.02,
                        dtype=w_dtype)
    scale = {"int8": 0.2, "int16": 1 / 256}.get(x_dtype)
    out = oplab.out_like("FULLY_CONNECTED", [x, w, None], {}, scale=scale)
    graph = oplab.one_op("FULLY_CONNECTED", [x, w, None], {}, out)
    return Node.of(graph, graph.ops[0])


@pytest.mark.parametrize("dtypes, function", [
    (("float32", "float32"), "fitml_fully_connected_f32"),
    (("int8", "int8"), "fitml_fully_connected_s8"),
    (("int16", "int8"), "fitml_fully_connected_s16"),
    (("int8", "int4"), "fitml_fully_connected_s8s4"),
    (("float32", "int8"), "fitml_fully_connected_hybrid_f32"),
    (("float32", "int4"), "fitml_fully_connected_hybrid_f32"),
])
def test_dtype_pair_picks_the_kernel(dtypes, function):
    node = _fc_node(*dtypes)
    fc = registry.get("FULLY_CONNECTED")
    assert fc.signature(node) == dtypes
    assert fc.lower_c(node).kernel == function
    x = np.ones(node.ins[0].shape, node.ins[0].dtype)
    (y,) = fc.reference(node, [x, node.ins[1].data, None])
    assert y.dtype == np.dtype(node.outs[0].dtype) and y.shape == node.outs[0].shape


def test_a_kernel_is_registered_once_per_dtype_pair():
    with pytest.raises(TypeError, match="registered twice"):
        registry.variant("CONV_2D", INT16x8, "lower_c")(lambda node: None)
    with pytest.raises(TypeError, match="not one of"):
        registry.variant("CONV_2D", INT16x8, "infer")
    assert ("lower_c", INT16x8[0]) in registry.variants("CONV_2D")


@pytest.mark.parametrize("kind", WEIGHTED)
def test_supported_dtype_pairs_are_the_registered_kernels(kind):
    """DEPTHWISE_CONV_2D and FULLY_CONNECTED accept exactly these pairs (their `infer`)."""
    assert registry.dtype_pairs(kind) == {
        ("float32", "float32"), ("int8", "int8"), ("int16", "int8"), ("int8", "int4"),
        ("float32", "int8"), ("float32", "int4")}
