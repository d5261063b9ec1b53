"""CONV_2D and DEPTHWISE_CONV_2D: seeded one-op graphs over strides, paddings, dilations, depth
multipliers and groups, per-channel and per-tensor, with and without bias, int4 filters; the
int8 reference equals TFLite Micro exactly, float matches TFLM and LiteRT; the hybrid per-tensor
conv matches LiteRT; bad depth multipliers and windows that do not fit are refused."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import oplab
from toolchain.ir import GraphError, Op
from toolchain.ops import registry
from toolchain.ops.interpreter import run_graph
from conv_fc_cases import conv_case, run_case, seeded


# (stride, padding, dilation, depth multiplier or groups); odd and even sizes per case
SPATIAL = list(itertools.product((1, 2), ("SAME", "VALID"), (1, 2), (1, 2)))
INT8_CONV = [(s, p, d, m, pc, b) for (s, p, d, m), pc, b
             in itertools.product(SPATIAL, (True, False), (True, False))]
FLOAT_CONV = [(s, p, d, m, True, i % 2 == 0) for i, (s, p, d, m) in enumerate(SPATIAL)]


def case_id(case):
    stride, pad, dil, mult, pc, bias = case
    return (f"s{stride}-{pad}-d{dil}-m{mult}-{'pc' if pc else 'pt'}"
            f"-{'bias' if bias else 'nobias'}")


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("index,case", list(enumerate(INT8_CONV)),
                         ids=[f"{i}-{case_id(c)}" for i, c in enumerate(INT8_CONV)])
def test_conv_int8_tflm_exact(kind, index, case):
    rng = seeded(kind, index, "int8")
    run_case(conv_case(kind, index, "int8", case), rng, "int8")


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("index,case", list(enumerate(FLOAT_CONV)),
                         ids=[f"{i}-{case_id(c)}" for i, c in enumerate(FLOAT_CONV)])
def test_conv_float_tflm_litert(kind, index, case):
    rng = seeded(kind, index, "float32")
    # LiteRT's CONV_2D Prepare requires a bias ("has_bias was not true"): TFLM only then
    litert = kind != "CONV_2D" or case[5]
    run_case(conv_case(kind, index, "float32", case), rng, "float32", litert)


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("index", range(4))
def test_conv_int4_filter_tflm_exact(kind, index):
    case = SPATIAL[index * 5 % len(SPATIAL)][:3] + (1, index % 2 == 0, True)
    graph = conv_case(kind, index, "int8", case, w_dtype="int4")
    run_case(graph, seeded(kind, 100 + index, "int8"), "int8")


def test_depthwise_multiplier_must_match_filter():
    x = oplab.act("x", (1, 4, 4, 3))
    w = oplab.const("w", np.ones((1, 3, 3, 6), np.int8), scale=0.01)
    for bad in (1, 3):
        op = Op("DEPTHWISE_CONV_2D", ["x", "w"], ["y"], dict(depth_multiplier=bad))
        with pytest.raises(GraphError, match="depth_multiplier"):
            registry.get("DEPTHWISE_CONV_2D").infer(op, [x, w])


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_window_that_does_not_fit_is_rejected(kind):
    x = oplab.act("x", (1, 4, 6, 2))
    w = oplab.const("w", np.ones((2, 3, 3, 2) if kind == "CONV_2D" else (1, 3, 3, 2), np.int8),
                    scale=0.01)
    op = Op(kind, ["x", "w"], ["y"], dict(padding="VALID", dilation=(2, 1)))
    with pytest.raises(GraphError, match="does not fit"):
        registry.get(kind).infer(op, [x, w])


@pytest.mark.parametrize("index", range(4))
def test_hybrid_conv_per_tensor_matches_litert(index):
    """Float input, per-tensor int8 weights: LiteRT quantizes each batch of the input
    symmetrically on the fly (TFLM cannot run this); the reference does the same."""
    from toolchain.backends.tflite import write_tflite
    from toolchain.verify.litert import run_litert

    case = SPATIAL[index * 3 % len(SPATIAL)][:2] + (1, 1, False, True)
    graph = conv_case("CONV_2D", index, "int8", case)
    op = graph.ops[0]
    x, w, b = graph.op_inputs(op)
    rng = np.random.default_rng(index)
    fb = oplab.const("b", rng.standard_normal(b.shape).astype(np.float32))
    out = graph.tensors[op.outputs[0]].replace(dtype="float32", quant=None)
    hybrid = oplab.one_op("CONV_2D", [x.replace(dtype="float32", quant=None), w, fb],
                          op.attrs, out)
    value = (rng.standard_normal(x.shape) * 3).astype(np.float32)
    oplab.assert_close(run_litert(write_tflite(hybrid), [value])[0],
                       run_graph(hybrid, [value])[0], 1e-5, "litert")


def test_depthwise_channel_order_hand_computed():
    """Output channel ic*dm + m reads input channel ic: a 1x1 filter makes it visible."""
    x = oplab.act("x", (1, 1, 1, 2), "float32")
    w = oplab.const("w", np.array([1, 10, 100, 1000], np.float32).reshape(1, 1, 1, 4))
    attrs = dict(padding="VALID", stride=(1, 1), depth_multiplier=2)
    graph = oplab.one_op("DEPTHWISE_CONV_2D", [x, w], attrs,
                         oplab.out_like("DEPTHWISE_CONV_2D", [x, w], attrs))
    (y,) = run_graph(graph, [np.array([2, 3], np.float32).reshape(1, 1, 1, 2)])
    np.testing.assert_array_equal(y.ravel(), [2, 20, 300, 3000])
