"""The .tflite writer, run: CONV_2D one-op graphs written by it run bit-exact in TFLite Micro
(int8: paddings, strides, activations, dilation, groups, int4 filters, absent biases; LiteRT
too) and float matches LiteRT; the lab's comparison lists every mismatch and can fail."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from writer_cases import conv_graph


@pytest.mark.parametrize("activation", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (2, 1)])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_int8_conv_tflm_exact(padding, stride, activation):
    rng = np.random.default_rng([len(padding), *stride, len(activation)])
    graph = conv_graph(rng, padding=padding, stride=stride, activation=activation)
    for _ in range(2):
        oplab.check_tflm(graph, rng)


CONV_VARIANTS = {
    "bias_absent": dict(bias="absent"), "two_inputs": dict(bias="none"),
    "dilated": dict(dilation=(2, 3), padding="SAME", x_shape=(1, 11, 12, 3)),
    "grouped": dict(x_shape=(1, 7, 7, 6), cout=4, groups=2, activation="RELU"),
    "1x1_batch2": dict(k=(1, 1), x_shape=(2, 5, 5, 8), cout=16),
    "5x5_valid_stride3": dict(k=(5, 5), x_shape=(1, 16, 13, 4), stride=(3, 3),
                              padding="VALID"),
    "int4_weights": dict(w_dtype="int4", x_shape=(1, 6, 6, 5)),
}


@pytest.mark.parametrize("case", sorted(CONV_VARIANTS))
def test_int8_conv_variants_exact(case):
    """TFLM and LiteRT (a bias-less conv is written with a zero bias, which LiteRT needs)."""
    graph = conv_graph(np.random.default_rng(7), **CONV_VARIANTS[case])
    oplab.check_tflm(graph, np.random.default_rng(8), litert=True)


@pytest.mark.parametrize("padding,stride,activation",
                         [("SAME", (1, 1), "NONE"), ("VALID", (2, 2), "RELU"),
                          ("SAME", (2, 1), "RELU6")])
def test_float_conv_matches_litert_and_tflm(padding, stride, activation):
    rng = np.random.default_rng(11)
    graph = conv_graph(rng, dtype="float32", padding=padding, stride=stride,
                       activation=activation)
    oplab.check_tflm(graph, rng, litert=True, atol=1e-5)


def test_assert_exact_lists_every_mismatch():
    want = np.zeros((3, 100), np.int8)
    got = want.copy()
    got[0, 5], got[2, 99] = 1, -4
    with pytest.raises(AssertionError) as err:
        oplab.assert_exact(want, got, "demo")
    text = str(err.value)
    assert "2 of 300" in text and "(0, 5): 0, 1" in text and "(2, 99): 0, -4" in text
    with pytest.raises(AssertionError, match="and 100 more"):
        oplab.assert_exact(want, got + 1, "all")
    oplab.assert_exact(want, want.copy())


def test_lab_detects_a_quantization_mismatch():
    """The lab must be able to fail: TFLM run with another output scale than the reference
    used gives mismatches."""
    rng = np.random.default_rng(3)
    graph = conv_graph(rng)
    inputs = oplab.random_inputs(graph, rng)
    ref, _ = oplab.run_reference_and_tflm(graph, inputs)
    out = graph.tensors["out"]
    skewed = graph.replace(tensors={**graph.tensors, "out": out.replace(
        quant=type(out.quant)(out.quant.s * 1.5, out.quant.zp))})
    _, tflm = oplab.run_reference_and_tflm(skewed, inputs)
    with pytest.raises(AssertionError, match="elements differ"):
        oplab.assert_exact(ref[0], tflm[0])
