"""int16 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (16x8): the numpy reference equals
TFLite Micro exactly on the seeded cases of tests/int16_cases.py, which cover both signs of the
requantization shift and an int64 bias that decides its channel's output; the 64-bit
multiply-by-quantized-multiplier on its edges; what 16x8 refuses, by name."""
from __future__ import annotations

import numpy as np
import pytest

import oplab
from toolchain.ir import GraphError
from toolchain.arith import fixedpoint as fp
from int16_cases import (ACTS, BIASES, CONV_CASES, DW_CASES, FC_CASES, S_IN, conv_case, dw_case,
                         fc_case, shifts_of)


def check_tflm(graph, inputs):
    ref, tflm = oplab.run_reference_and_tflm(graph, inputs)
    for i, (want, got) in enumerate(zip(ref, tflm)):
        oplab.assert_exact(want, np.asarray(got).reshape(want.shape), f"tflm output {i}")
    return ref


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
