"""Hybrid (float32 activations, int8/int4 weights) CONV_2D, DEPTHWISE_CONV_2D and
FULLY_CONNECTED: fitml's reference equals LiteRT's BUILTIN_REF kernels bit for bit (per-tensor
and per-channel, symmetric and asymmetric input quantization, grouped, int4, all-zero and
extreme rows; fused TANH within 1e-5); per-tensor grouped and depthwise weights refused."""
from __future__ import annotations

import numpy as np
import oplab
import pytest

from toolchain.ir import GraphError
from toolchain.ops.windows import output_hw
from hybrid_cases import (F32, assert_bit_exact, bias, float_input, one_op, ours_and_litert, seed,
                          weights)


# ---- CONV_2D --------------------------------------------------------------------------------

CONV_CASES = [  # batch, hw, cin, cout, kernel, stride, padding, dilation, activation
    (1, (9, 8), 3, 8, (3, 3), (1, 1), "SAME", (1, 1), "NONE"),
    (2, (9, 8), 3, 8, (3, 2), (2, 1), "VALID", (1, 1), "RELU"),
    (2, (7, 7), 4, 5, (1, 1), (1, 1), "SAME", (1, 1), "RELU6"),
    (2, (9, 8), 3, 4, (3, 3), (1, 1), "SAME", (2, 2), "RELU_N1_TO_1"),
    (3, (10, 6), 5, 6, (4, 3), (2, 2), "SAME", (1, 1), "NONE"),
]


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}x{c[1]}x{c[2]}-k{c[4]}")
def test_conv_hybrid_bit_exact(case, per_channel):
    n, hw, cin, cout, k, stride, padding, dilation, act = case
    rng = np.random.default_rng(seed((case, per_channel)))
    x = oplab.act("x", (n, *hw, cin), "float32")
    w = weights(rng, (cout, *k, cin), cout if per_channel else 1, 0)
    b = bias(rng, cout)
    attrs = dict(padding=padding, stride=stride, dilation=dilation, activation=act)
    out = oplab.out_like("CONV_2D", [x, w, b], attrs)
    g = one_op("CONV_2D", [x, w, b], attrs, out.shape)
    assert_bit_exact(g, float_input(rng, x.shape, offset=0.7))


@pytest.mark.parametrize("variant", ["grouped", "equal_scales", "int4", "int4_per_channel"])
def test_conv_hybrid_variants(variant):
    rng = np.random.default_rng(7)
    cin_g = 2 if variant == "grouped" else 4
    dtype = "int4" if variant.startswith("int4") else "int8"
    scales = 1 if variant == "int4" else 6
    w = weights(rng, (6, 3, 3, cin_g), scales, 0, dtype)
    if variant == "equal_scales":  # LiteRT then takes the per-tensor (symmetric) kernel
        w = oplab.const("w", w.data, scale=np.full(6, 0.004, F32), axis=0)
    x = oplab.act("x", (2, 6, 5, 4), "float32")
    attrs = dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE")
    g = one_op("CONV_2D", [x, w, bias(rng, 6)], attrs, (2, 6, 5, 6))
    assert_bit_exact(g, float_input(rng, x.shape))


def test_conv_hybrid_grouped_per_tensor_rejected():
    rng = np.random.default_rng(8)
    x = oplab.act("x", (1, 4, 4, 4), "float32")
    w = weights(rng, (4, 1, 1, 2), 1, 0)
    g = one_op("CONV_2D", [x, w, bias(rng, 4)], dict(padding="SAME"), (1, 4, 4, 4))
    with pytest.raises(GraphError, match="per-channel"):
        ours_and_litert(g, float_input(rng, x.shape))


# ---- DEPTHWISE_CONV_2D ----------------------------------------------------------------------

@pytest.mark.parametrize("case", [  # batch, channels, multiplier, padding, stride, dilation, act
    (1, 4, 1, "SAME", (1, 1), (1, 1), "RELU"),
    (2, 3, 2, "VALID", (2, 1), (1, 1), "NONE"),
    (2, 3, 2, "SAME", (1, 1), (2, 2), "RELU6"),
    (3, 8, 1, "SAME", (2, 2), (1, 1), "NONE"),
], ids=str)
def test_depthwise_hybrid_bit_exact(case):
    n, c, dm, padding, stride, dilation, act = case
    rng = np.random.default_rng(seed(case))
    x = oplab.act("x", (n, 8, 7, c), "float32")
    w = weights(rng, (1, 3, 3, c * dm), c * dm, 3)
    attrs = dict(padding=padding, stride=stride, dilation=dilation, depth_multiplier=dm,
                 activation=act)
    oh, ow = output_hw("DEPTHWISE_CONV_2D", (8, 7), (3, 3), stride, dilation, padding)
    g = one_op("DEPTHWISE_CONV_2D", [x, w, bias(rng, c * dm)], attrs, (n, oh, ow, c * dm))
    assert_bit_exact(g, float_input(rng, x.shape, offset=-0.4))


def test_depthwise_hybrid_per_tensor_rejected():
    rng = np.random.default_rng(9)
    x = oplab.act("x", (1, 4, 4, 3), "float32")
    w = weights(rng, (1, 3, 3, 3), 1, 3)
    g = one_op("DEPTHWISE_CONV_2D", [x, w, bias(rng, 3)], dict(padding="SAME"), (1, 4, 4, 3))
    with pytest.raises(GraphError, match="per-channel"):
        ours_and_litert(g, float_input(rng, x.shape))


# ---- FULLY_CONNECTED ------------------------------------------------------------------------

@pytest.mark.parametrize("asym", [False, True], ids=["symmetric", "asymmetric"])
@pytest.mark.parametrize("case", [  # input shape, units, per-channel, bias, act, keep, dtype
    ((1, 64), 12, False, True, "NONE", False, "int8"),
    ((3, 37), 8, False, True, "RELU", False, "int8"),
    ((4, 64), 12, True, True, "RELU6", False, "int8"),
    ((4, 50), 7, True, False, "RELU_N1_TO_1", False, "int8"),
    ((2, 3, 20), 5, True, True, "NONE", True, "int8"),
    ((2, 2000), 16, False, True, "NONE", False, "int8"),
    ((3, 40), 8, True, True, "NONE", False, "int4"),
], ids=lambda c: f"{c[0]}-{c[1]}-{'pc' if c[2] else 'pt'}-{c[4]}-{c[6]}")
def test_fc_hybrid_bit_exact(case, asym):
    shape, units, per_channel, has_bias, act, keep, dtype = case
    rng = np.random.default_rng(seed((case, asym)))
    k = shape[-1]
    x = oplab.act("x", shape, "float32")
    w = weights(rng, (units, k), units if per_channel else 1, 0, dtype)
    attrs = dict(activation=act, keep_num_dims=keep, asymmetric_quantize_inputs=asym)
    out_shape = shape[:-1] + (units,) if keep else (int(np.prod(shape)) // k, units)
    g = one_op("FULLY_CONNECTED", [x, w, bias(rng, units) if has_bias else None], attrs,
               out_shape)
    assert_bit_exact(g, float_input(rng, shape, spread=2.0, offset=0.5))


def test_fc_hybrid_tanh_close():
    """Fused TANH runs Eigen's float tanh in LiteRT: equal within 1e-5 of the range, not bits."""
    rng = np.random.default_rng(11)
    x = oplab.act("x", (4, 50), "float32")
    w = weights(rng, (7, 50), 7, 0)
    g = one_op("FULLY_CONNECTED", [x, w, bias(rng, 7)],
               dict(activation="TANH", asymmetric_quantize_inputs=True), (4, 7))
    ours, theirs = ours_and_litert(g, float_input(rng, (4, 50)))
    oplab.assert_close(theirs, ours, atol=1e-5 * float(np.ptp(theirs)))


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
@pytest.mark.parametrize("asym", [False, True], ids=["sym", "asym"])
def test_hybrid_zero_and_extreme_rows(kind, asym):
    """All-zero batches (scale 1, q 0), tiny and huge magnitudes, all-positive batches."""
    rng = np.random.default_rng(12)
    if kind == "FULLY_CONNECTED":
        shape, out_shape = (5, 24), (5, 6)
        w = weights(rng, (6, 24), 6 if asym else 1, 0)
        attrs = dict(asymmetric_quantize_inputs=asym)
    else:  # CONV_2D per-channel scales select the asymmetric kernel; depthwise always is
        shape, out_shape = (5, 5, 4, 3), (5, 5, 4, 3)
        dw = kind == "DEPTHWISE_CONV_2D"
        w = weights(rng, (1, 3, 3, 3) if dw else (3, 3, 3, 3), 3 if asym or dw else 1,
                    3 if dw else 0)
        attrs = dict(padding="SAME", stride=(1, 1))
    x = float_input(rng, shape)
    x[0] = 0
    x[1] *= F32(1e-6)
    x[2] *= F32(1e4)
    x[3] = np.abs(x[3])
    x[4] = -np.abs(x[4])
    g = one_op(kind, [oplab.act("x", shape, "float32"), w, bias(rng, out_shape[-1])], attrs,
               out_shape)
    assert_bit_exact(g, x)
