"""int16 activations (TFLite's 16x8 scheme): the numpy reference equals TFLite Micro exactly.

Seeded one-op graphs for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (per-channel and
per-tensor int8 filters, strides, paddings, dilations, fused activations, int64 / int32 / no
bias), ADD, SUB, the pools, MEAN, QUANTIZE to and from int16 and the byte-moving ops. Two input
regimes: the full int16 range with a shrinking output scale (negative requantization shifts),
and small inputs with per-channel scales spread over three decades (positive shifts too); one
channel has a bias far beyond int32 and a multiplier near 2^-28, so the int64 bias decides its
output. The graphs are shared with tests/test_c_int16.py (C kernels vs this reference).
"""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.ir import GraphError
from toolchain.ops import common
from toolchain.arith import fixedpoint as fp

S_IN = 1.0 / 4096
ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _bias(rng, cout, dtype, s_in, s_w, acc_std, huge: bool):
    """Bias at scale s_in * s_w; with `huge`, channel 0 holds a value beyond int32."""
    lim = min(int(4 * acc_std), 2**31 - 1)
    values = rng.integers(-lim, lim + 1, cout).astype(np.int64)
    if huge:
        values[0] = int(rng.choice([-1, 1])) * int(rng.integers(2**38, 2**42))
    return oplab.const("b", values.astype(dtype), scale=(np.float32(s_in) * s_w).astype(
        np.float32), axis=0 if s_w.size > 1 else None)


def weighted_case(kind: str, rng, x_shape, w_shape, axis, attrs, per_channel=True,
                  bias="int64", small=False):
    """(graph, inputs) of one 16x8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED.

    Not small: full-range int16 inputs, output scale for an output std of ~2000-8000 codes.
    small: inputs in [-64, 64], per-channel filter scales over three decades, so requantization
    shifts take both signs. A per-channel int64 bias puts a huge value on channel 0 whose
    multiplier is ~2^-28 (its filter scale shrunk to match)."""
    cout, taps = w_shape[axis], int(np.prod(w_shape)) // w_shape[axis]
    amp = 64 if small else 32768
    acc_std = amp * 0.58 * 73 * np.sqrt(taps)
    spread = 10.0 ** rng.uniform(-1.5, 1.5, cout) if small else rng.uniform(0.5, 2, cout)
    s_w = (0.01 * spread if per_channel else np.float32([0.01])).astype(np.float32)
    s_out = float(S_IN * 0.01 * acc_std / rng.uniform(2000, 8000))
    huge = bias == "int64" and per_channel
    if huge:      # channel 0: m = s_in * s_w0 / s_out ~ 2^-28
        s_w[0] = np.float32(s_out / S_IN * 2.0**-28 * rng.uniform(1, 2))
    x = oplab.act("x", x_shape, "int16", scale=S_IN)
    w = oplab.const("w", rng.integers(-127, 128, w_shape).astype(np.int8), scale=s_w,
                    axis=axis if per_channel else None)
    b = None if bias is None else _bias(rng, cout, bias, S_IN, s_w, acc_std, huge)
    ins = [x, w] if b is None and kind != "FULLY_CONNECTED" else [x, w, b]
    out = oplab.out_like(kind, ins, attrs, scale=s_out, zp=0)
    graph = oplab.one_op(kind, ins, attrs, out)
    xs = rng.integers(-amp, amp + 1, x_shape).astype(np.int16)
    return graph, [xs]


def check_tflm(graph, inputs):
    ref, tflm = oplab.run_reference_and_tflm(graph, inputs)
    for i, (want, got) in enumerate(zip(ref, tflm)):
        oplab.assert_exact(want, np.asarray(got).reshape(want.shape), f"tflm output {i}")
    return ref


CONV_CASES = [  # (x shape, (cout, kh, kw, cin/groups), stride, dilation, padding)
    ((1, 9, 9, 3), (6, 3, 3, 3), (1, 1), (1, 1), "SAME"),
    ((2, 8, 7, 4), (5, 3, 2, 4), (2, 1), (1, 1), "VALID"),
    ((1, 10, 10, 2), (4, 3, 3, 2), (2, 2), (2, 2), "SAME"),
    ((1, 6, 6, 8), (7, 1, 1, 8), (1, 1), (1, 1), "VALID"),
    ((1, 7, 7, 4), (6, 3, 3, 2), (1, 2), (1, 1), "SAME"),      # 2 groups
]
DW_CASES = [  # (x shape, (kh, kw), depth multiplier, stride, dilation, padding)
    ((1, 9, 9, 4), (3, 3), 1, (1, 1), (1, 1), "SAME"),
    ((1, 8, 7, 3), (3, 2), 2, (2, 1), (1, 1), "VALID"),
    ((2, 10, 10, 2), (3, 3), 3, (1, 1), (2, 2), "SAME"),
]
BIASES = ("int64", "int32", None)


def conv_case(index: int, bias, act: str, small: bool):
    rng = np.random.default_rng([16, 1, index, BIASES.index(bias), ACTS.index(act), small])
    x_shape, w_shape, stride, dilation, padding = CONV_CASES[index]
    attrs = dict(padding=padding, stride=stride, dilation=dilation, activation=act)
    return weighted_case("CONV_2D", rng, x_shape, w_shape, 0, attrs,
                         per_channel=index != 3, bias=bias, small=small)


def dw_case(index: int, bias, act: str, small: bool):
    rng = np.random.default_rng([16, 2, index, BIASES.index(bias), ACTS.index(act), small])
    x_shape, (kh, kw), dm, stride, dilation, padding = DW_CASES[index]
    attrs = dict(padding=padding, stride=stride, dilation=dilation, activation=act,
                 depth_multiplier=dm)
    return weighted_case("DEPTHWISE_CONV_2D", rng, x_shape, (1, kh, kw, x_shape[3] * dm), 3,
                         attrs, per_channel=index != 1, bias=bias, small=small)


FC_CASES = [((3, 40), 7, False), ((1, 1, 1, 24), 9, False), ((2, 3, 16), 5, True)]


def fc_case(index: int, bias, per_channel: bool, act: str, small: bool):
    rng = np.random.default_rng([16, 3, index, BIASES.index(bias), per_channel, small])
    x_shape, n, keep = FC_CASES[index]
    attrs = dict(activation=act, keep_num_dims=keep)
    return weighted_case("FULLY_CONNECTED", rng, x_shape, (n, x_shape[-1]), 0, attrs,
                         per_channel=per_channel, bias=bias, small=small)


def shifts_of(graph):
    """Requantization shifts of a one-op weighted graph (to show both signs are covered)."""
    op = graph.ops[0]
    x, w, out = (graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]],
                 graph.tensors[op.outputs[0]])
    return common.conv_multipliers(x.quant.s, w.quant.scale, out.quant.s, w.quant.scale.size)[1]


@pytest.mark.parametrize("small", [False, True], ids=["full", "small"])
@pytest.mark.parametrize("bias", BIASES, ids=str)
@pytest.mark.parametrize("index", range(len(CONV_CASES)))
def test_conv_int16_tflm_exact(index, bias, small):
    for act in ACTS[:2] if index % 2 else ACTS:
        check_tflm(*conv_case(index, bias, act, small))


@pytest.mark.parametrize("small", [False, True], ids=["full", "small"])
@pytest.mark.parametrize("bias", ("int64", None), ids=str)
@pytest.mark.parametrize("index", range(len(DW_CASES)))
def test_depthwise_int16_tflm_exact(index, bias, small):
    for act in ACTS:
        check_tflm(*dw_case(index, bias, act, small))


@pytest.mark.parametrize("small", [False, True], ids=["full", "small"])
@pytest.mark.parametrize("bias", BIASES, ids=str)
@pytest.mark.parametrize("per_channel", [True, False], ids=["per_channel", "per_tensor"])
@pytest.mark.parametrize("index", range(len(FC_CASES)))
def test_fc_int16_tflm_exact(index, per_channel, bias, small):
    for act in ("NONE", "RELU6"):
        check_tflm(*fc_case(index, bias, per_channel, act, small))


def test_cases_cover_both_shift_signs_and_wide_bias():
    shifts = np.concatenate([shifts_of(conv_case(0, "int64", "NONE", s)[0]) for s in (0, 1)])
    assert shifts.min() < -20 and shifts.max() > 0, shifts
    graph = conv_case(0, "int64", "NONE", True)[0]
    bias = graph.tensors["b"].data
    assert bias.dtype == np.int64 and abs(int(bias[0])) > 2**37


def test_wide_bias_decides_the_output():
    """Channel 0's huge bias dominates: dropping its low 32 bits changes the output."""
    graph, xs = conv_case(0, "int64", "NONE", True)
    out = check_tflm(graph, xs)[0]
    assert np.abs(out[..., 0]).min() > 64                       # bias * 2^-28: not saturated
    assert np.abs(out[..., 0]).max() < 32767


def test_mbqm64_matches_the_formula_on_edges():
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.integers(-2**47, 2**47, 2000), [0, 1, -1, 2**47 - 1, -2**47]])
    ms = np.concatenate([rng.integers(2**30, 2**31, 1995), [2**30, 0x7FFEFFFF, 0x7FFF0000,
                                                            0x7FFF8000, 2**31 - 1]])
    ms = np.resize(ms, xs.size)
    ss = rng.integers(-31, 8, xs.size)
    got = fp.mbqm64(xs, ms, ss)
    for x, m, s, g in zip(xs.tolist(), ms.tolist(), ss.tolist(), got.tolist()):
        reduced = (m + 2**15) >> 16 if m < 0x7FFF0000 else 0x7FFF
        v = (x * reduced + 2 ** (14 - s)) >> (15 - s)
        assert g == ((v + 2**31) % 2**32) - 2**31, (x, m, s)


@pytest.mark.parametrize("kind", ["ADD", "SUB"])
def test_add_sub_int16_tflm_exact(kind):
    rng = np.random.default_rng([16, 4, kind == "SUB"])
    shapes = [((1, 5, 6, 3), (1, 5, 6, 3)), ((2, 4, 1, 3), (1, 1, 5, 3)), ((7, 6), (6,))]
    scales = [(1 / 4096, 1 / 3000, 1 / 2048), (3e-4, 1e-4, 2e-4), (1 / 4096,) * 3,
              (2e-5, 5e-4, 1e-3)]
    for i, ((sa, sb), (s1, s2, so), act) in enumerate(
            zip(shapes * 4, scales * 3, ACTS * 3)):
        a = oplab.act("a", sa, "int16", scale=s1)
        b = oplab.act("b", sb, "int16", scale=s2)
        attrs = dict(activation=act)
        out = oplab.out_like(kind, [a, b], attrs, scale=so, zp=0)
        oplab.check_tflm(oplab.one_op(kind, [a, b], attrs, out), rng)


POOL_CASES = [((1, 7, 6, 3), (3, 2), (2, 2), "SAME"), ((2, 8, 8, 2), (2, 2), (2, 2), "VALID"),
              ((1, 9, 7, 4), (3, 3), (1, 2), "SAME"), ((1, 5, 5, 1), (5, 5), (1, 1), "VALID")]


def pool_graph(kind: str, index: int, act: str):
    shape, filt, stride, padding = POOL_CASES[index]
    x = oplab.act("x", shape, "int16", scale=1 / 2000)
    attrs = dict(padding=padding, stride=stride, filter=filt, activation=act)
    out = oplab.out_like(kind, [x], attrs, scale=1 / 2000, zp=0)
    return oplab.one_op(kind, [x], attrs, out)


@pytest.mark.parametrize("kind", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("index", range(len(POOL_CASES)))
def test_pool_int16_tflm_exact(kind, index):
    rng = np.random.default_rng([16, 5, index, kind == "MAX_POOL_2D"])
    for act in ACTS:
        oplab.check_tflm(pool_graph(kind, index, act), rng)


def mean_graph(axes, keep: bool, s_out: float):
    x = oplab.act("x", (2, 5, 6, 7), "int16", scale=1 / 2000)
    ax = oplab.const("axes", np.array(axes, np.int32))
    out = oplab.out_like("MEAN", [x, ax], dict(keep_dims=keep), scale=s_out, zp=0)
    return oplab.one_op("MEAN", [x, ax], dict(keep_dims=keep), out)


@pytest.mark.parametrize("axes,keep,s_out", [([1, 2], True, 1 / 3000), ([2], False, 1 / 1000),
                                             ([-1, 0], False, 1 / 2000), ([3], True, 1 / 9000)])
def test_mean_int16_tflm_exact(axes, keep, s_out):
    oplab.check_tflm(mean_graph(axes, keep, s_out), np.random.default_rng([16, 6, len(axes)]))


QUANTIZE_CASES = [("int8", 0.02, 5, "int16", 1 / 5000), ("int16", 1 / 4096, 0, "int8", 0.03),
                  ("int16", 1 / 4096, 0, "int16", 1 / 5000), ("int16", 1 / 4096, 0, "int16", 1e-3),
                  ("float32", None, None, "int16", 1 / 3000)]


def quantize_graph(src, s_in, zp_in, dst, s_out):
    x = oplab.act("x", (1, 4, 5, 3), src, scale=s_in, zp=zp_in)
    out = oplab.act("out", (1, 4, 5, 3), dst, scale=s_out, zp=-3 if dst == "int8" else 0)
    return oplab.one_op("QUANTIZE", [x], dict(dtype=dst), out)


@pytest.mark.parametrize("case", QUANTIZE_CASES, ids=lambda c: f"{c[0]}-{c[3]}-{c[4]:.3g}")
def test_quantize_int16_tflm_exact(case):
    oplab.check_tflm(quantize_graph(*case), np.random.default_rng([16, 7, QUANTIZE_CASES.index(
        case)]))


def data_graphs():
    """RESHAPE, PAD, TRANSPOSE, CONCATENATION on int16 (raw 2-byte moves)."""
    x = oplab.act("x", (1, 4, 5, 3), "int16", scale=1 / 4096)
    y = oplab.act("y", (1, 4, 5, 2), "int16", scale=1 / 4096)
    cases = [("RESHAPE", [x, oplab.const("shape", np.array([1, 60], np.int32))], {}),
             ("PAD", [x, oplab.const("pads", np.array([[0, 0], [1, 2], [0, 1], [0, 0]],
                                                      np.int32))], {}),
             ("TRANSPOSE", [x, oplab.const("perm", np.array([0, 2, 1, 3], np.int32))], {}),
             ("CONCATENATION", [x, y], dict(axis=3, activation="NONE"))]
    for kind, ins, attrs in cases:
        out = oplab.out_like(kind, ins, attrs, scale=1 / 4096, zp=0)
        yield kind, oplab.one_op(kind, ins, attrs, out)


def test_data_movement_int16_tflm_exact():
    rng = np.random.default_rng([16, 8])
    for kind, graph in data_graphs():
        oplab.check_tflm(graph, rng)


# ------------------------------------------------------------------ what 16x8 refuses

def _conv_ins(w_dtype="int8", zp_in=0, bias="int64", kind="CONV_2D"):
    x = oplab.act("x", (1, 5, 5, 2), "int16", scale=S_IN, zp=zp_in)
    shape = (3, 3, 3, 2) if kind == "CONV_2D" else (1, 3, 3, 2)
    lim = 7 if w_dtype == "int4" else 127
    w = oplab.const("w", np.full(shape, lim, np.int8), scale=np.float32([0.01]),
                    dtype=w_dtype)
    b = oplab.const("b", np.zeros(shape[0] if kind == "CONV_2D" else 2, bias),
                    scale=np.float32([S_IN * 0.01]))
    return [x, w, b]


@pytest.mark.parametrize("kind,change,match", [
    ("CONV_2D", dict(w_dtype="int4"), "int8 filter"),
    ("DEPTHWISE_CONV_2D", dict(w_dtype="int4"), "int4 filter with int16"),
    ("CONV_2D", dict(zp_in=3), "zero point 3"),
    ("DEPTHWISE_CONV_2D", dict(bias="int32"), "int64"),
    ("CONV_2D", dict(bias="int16"), "int64 or int32"),
])
def test_weighted_int16_refuses_unsupported(kind, change, match):
    ins = _conv_ins(kind=kind, **change)
    attrs = dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE")
    out = oplab.act("out", (1, 5, 5, 3 if kind == "CONV_2D" else 2), "int16", scale=1e-3)
    with pytest.raises(GraphError, match=match) as err:
        oplab.one_op(kind, ins, attrs, out)
    assert kind in str(err.value)


def test_int16_requantization_shift_above_14_is_refused():
    ins = _conv_ins()
    attrs = dict(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE")
    out = oplab.act("out", (1, 5, 5, 3), "int16", scale=1e-12)
    with pytest.raises(GraphError, match="CONV_2D.*too small"):
        oplab.one_op("CONV_2D", ins, attrs, out)


@pytest.mark.parametrize("kind", ["ADD", "MAX_POOL_2D"])
def test_int16_nonzero_zero_point_refused(kind):
    a = oplab.act("a", (1, 4, 4, 2), "int16", scale=S_IN, zp=5)
    if kind == "ADD":
        ins, attrs = [a, oplab.act("b", (1, 4, 4, 2), "int16", scale=S_IN)], {}
    else:
        ins, attrs = [a], dict(padding="SAME", stride=(1, 1), filter=(2, 2))
    out = oplab.act("out", (1, 4, 4, 2), "int16", scale=S_IN, zp=5)
    with pytest.raises(GraphError, match=f"{kind}.*zero point 5"):
        oplab.one_op(kind, ins, attrs, out)
