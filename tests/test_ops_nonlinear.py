"""SOFTMAX, LOGISTIC, TANH, MEAN and the gemmlowp fixed-point math under them.

Primitives: hand-derived values and accuracy against float math. Ops: seeded one-op graphs,
int8 reference == TFLite Micro exactly; float reference within 1e-5 (relative) of LiteRT/TFLM.
"""
from __future__ import annotations

import math

import numpy as np
import oplab
import pytest
from ai_edge_litert import schema_py_generated as schema
from conftest import shared_model
from oplab import act, const, one_op, out_like

from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops import registry
from toolchain.ops.mean import mean_multiplier
from toolchain.ops.softmax import exps_and_sums, softmax_int8
from toolchain.arith import gemmlowp as gl
from toolchain.arith.fixedpoint import INT32_MAX, rdbpot, srdhm

Q31 = 2.0 ** 31
SUM_LIMIT = 1 << 28  # 512.0 in Q12.19


def run_exact(graph, inputs):
    """Reference and TFLM agree exactly on every output; returns the reference outputs."""
    ref, tflm = oplab.run_reference_and_tflm(graph, inputs)
    for i, (want, got) in enumerate(zip(ref, tflm)):
        oplab.assert_exact(want, np.asarray(got).reshape(want.shape), f"tflm output {i}")
    return ref


def assert_rel_close(want, got, label, rtol=1e-5):
    """|got - want| <= rtol * |want| everywhere; a failure lists every offending index."""
    want, got = np.asarray(want), np.asarray(got).reshape(np.shape(want))
    far = ~(np.abs(got.astype(np.float64) - want) <= rtol * np.abs(want.astype(np.float64)))
    if far.any():
        raise AssertionError(f"{label}: beyond rtol={rtol}: "
                             + oplab.mismatch_report(np.where(far, want, 0),
                                                     np.where(far, got, 0)))


def run_float(graph, inputs):
    """Float reference vs LiteRT and TFLM, relative tolerance 1e-5."""
    ref, tflm, litert = oplab.run_litert_too(graph, inputs)
    for name, outs in (("litert", litert), ("tflm", tflm)):
        assert_rel_close(ref[0], outs[0], name)


# ---------------------------------------------------------------- gemmlowp primitives

def test_exp_quarter_hand_values():
    # exp(-1/8): x = a + 1/8 = 0 kills every power, leaving the constant term
    assert gl.exp_quarter(-(1 << 28)) == 1895147668
    # exp(-1/4): x = -2^28, x2 = 2^25, x3 = -2^22, x4 = 2^19 (all exact in SRDHM)
    x, x2, x3, x4 = -(1 << 28), 1 << 25, -(1 << 22), 1 << 19
    assert (srdhm(x, x), srdhm(x2, x), srdhm(x2, x2)) == (x2, x3, x4)
    # (x4/4 + x3) * 1/3 with 715827883 = (2^31 + 1) / 3: -4063232/3 - tiny, +1/2, floor
    assert srdhm((x4 >> 2) + x3, 715827883) == -1354411
    poly = 16100011  # (-1354411 + 2^25) / 2 = 16100010.5, rounded half away from zero
    assert rdbpot(-1354411 + x2, 1) == poly
    want = 1895147668 + (1895147668 * (x + poly) + (1 << 30)) // (1 << 31)
    assert gl.exp_quarter(-(1 << 29)) == want
    assert abs(want - math.exp(-0.25) * Q31) < 600


def test_exp_on_negative_values_hand_values():
    for bits in (0, 4, 5):
        assert gl.exp_on_negative_values(0, bits) == INT32_MAX
    # -1.0 in Q5.26: the remainder 3/4 sets the barrel bits for exp(-1/4) and exp(-1/2)
    e_quarter = gl.exp_quarter(-(1 << 29))
    want = srdhm(srdhm(e_quarter, 1672461947), 1302514674)
    assert gl.exp_on_negative_values(-(1 << 26), 5) == want
    # -3.0 in Q4.27: exp(-1/4) * exp(-1/4) * exp(-1/2) * exp(-2)
    want = srdhm(srdhm(srdhm(e_quarter, 1672461947), 1302514674), 290630308)
    assert gl.exp_on_negative_values(-3 * (1 << 27), 4) == want


@pytest.mark.parametrize("bits", [4, 5])
def test_exp_on_negative_values_accuracy(bits):
    a = np.linspace(-Q31, 0, 100001).astype(np.int64)
    err = gl.exp_on_negative_values(a, bits) - np.exp(a / 2.0 ** (31 - bits)) * Q31
    assert np.abs(err).max() < 600, np.abs(err).max()


def test_one_over_one_plus_x_hand_trace():
    """1 / (1 + 1/2), stepping through gemmlowp's Newton-Raphson division in plain ints."""
    def mul(a, b):                       # SRDHM without its (unused here) saturation
        return (a * b + (1 << 30)) >> 31
    half = 3 << 29                       # RoundingHalfSum(2^30, 2^31 - 1) = (3 * 2^30) / 2
    x = 1515870810 + mul(half, -1010580540)            # 48/17 - 32/17 * 0.75 in Q2.29
    for _ in range(3):
        x = x + 4 * mul(x, (1 << 29) - mul(half, x))   # no saturation: x stays < 2^29 * 2
    assert 0 < x < 1 << 30
    assert gl.one_over_one_plus_x(1 << 30) == 2 * x     # Q2.29 -> Q0.31 (x 2^2 / 2)
    assert gl.get_reciprocal(3 << 19, 12) == (2 * x, 1)


def test_logistic_tanh_compose_exp_and_reciprocal():
    a = np.array([1 << 27, 3 << 25, 12345678])          # positive Q4.27 values
    oplab.assert_exact(gl.logistic(a, 4),
                       gl.one_over_one_plus_x(gl.exp_on_negative_values(-a, 4)))
    # tanh reads the raw of -|a| as Q5.26, i.e. exp(-2|a|)
    oplab.assert_exact(gl.tanh(a, 4),
                       gl.one_minus_x_over_one_plus_x(gl.exp_on_negative_values(-a, 5)))
    oplab.assert_exact(gl.logistic(-a, 4), INT32_MAX - gl.logistic(a, 4))


def test_reciprocal_family():
    assert gl.one_over_one_plus_x(0) == INT32_MAX            # 1/1 saturates Q0.31
    assert abs(gl.one_over_one_plus_x(1 << 30) - Q31 * 2 / 3) < 8
    assert abs(gl.one_minus_x_over_one_plus_x(INT32_MAX)) < 32     # (1-1)/(1+1)
    a = np.linspace(0, Q31 - 1, 100001).astype(np.int64)
    x = a / Q31
    assert np.abs(gl.one_over_one_plus_x(a) - Q31 / (1 + x)).max() < 16
    assert np.abs(gl.one_minus_x_over_one_plus_x(a) - Q31 * (1 - x) / (1 + x)).max() < 32


def test_logistic_and_tanh_primitives():
    assert gl.logistic(0, 4) == 1 << 30 and gl.tanh(0, 4) == 0
    a = np.linspace(-Q31, Q31 - 1, 100001).astype(np.int64)
    a = a[a != 0]
    lg, th = gl.logistic(a, 4), gl.tanh(a, 4)
    np.testing.assert_array_equal(lg + gl.logistic(-a, 4), INT32_MAX)   # exact symmetry
    np.testing.assert_array_equal(th, -gl.tanh(-a, 4))
    assert np.abs(lg - Q31 / (1 + np.exp(-a / 2.0 ** 27))).max() < 300
    assert np.abs(th - Q31 * np.tanh(a / 2.0 ** 27)).max() < 600


def test_clz32_and_get_reciprocal():
    vals = [0, 1, 2, 3, 1 << 19, (1 << 31) - 1, -1, -(1 << 31)]
    np.testing.assert_array_equal(gl.clz32(vals), [32, 31, 30, 30, 12, 1, 0, 0])
    recip, bits = gl.get_reciprocal(1 << 19, 12)             # 1.0 in Q12.19
    assert bits == 0 and recip == INT32_MAX
    recip, bits = gl.get_reciprocal(3 << 19, 12)             # 3.0: 2^-1 * 1/(1 + 1/2)
    assert bits == 1 and recip == gl.one_over_one_plus_x(1 << 30)


# ---------------------------------------------------------------- SOFTMAX

def softmax_rows(rng, rows, length, beta, s_in):
    """int8 rows with random centre and spread: saturated, flat and everything between.

    Rows whose sum of exps reaches 512.0 are drawn again: TFLM asserts on them (see
    test_softmax_int8_beyond_tflm_sum_limit).
    """
    out = np.empty((rows, length), np.int8)
    for r in range(rows):
        while True:
            spread = rng.choice([0, 2, 8, 32, 128, 255])
            x = rng.integers(-128, 128) + np.round(rng.uniform(-1, 1, length) * spread)
            out[r] = np.clip(x, -128, 127)
            if exps_and_sums(out[r], beta, s_in)[2][0] < SUM_LIMIT:
                break
    return out


def softmax_graph(shape, s_in, zp_in, beta, s_out=1 / 256, zp_out=-128):
    x = act("x", shape, "int8", s_in, zp_in)
    return one_op("SOFTMAX", [x], {"beta": beta}, act("out", shape, "int8", s_out, zp_out))


SOFTMAX_LENGTHS = [2, 3, 4, 5, 7, 10, 12, 16, 31, 64, 100, 127, 255, 256, 333, 500, 777, 1000]


@pytest.mark.parametrize("case", range(36))
def test_softmax_int8_vs_tflm(case):
    rng = np.random.default_rng(100 + case)
    length = SOFTMAX_LENGTHS[case % len(SOFTMAX_LENGTHS)]
    s_in = float(np.exp(rng.uniform(np.log(2e-3), np.log(2.0))))
    beta = float(rng.choice([0.1, 0.5, 1.0, 1.0, 2.0, 3.7]))
    shape = (3, length) if case % 3 else (1, 2, length)
    graph = softmax_graph(shape, s_in, int(rng.integers(-128, 128)), beta)
    x = softmax_rows(rng, int(np.prod(shape[:-1])), length, beta, s_in).reshape(shape)
    out = run_exact(graph, [x])[0]
    assert (out.astype(np.int64) + 128).sum(axis=-1).max() <= 256 + length // 2


@pytest.mark.parametrize("s_in,beta", [(40.0, 2.0), (1e3, 1.0), (2.0 ** -25, 1.0),
                                       (1.0 / 256, 1.0), (0.5, 0.25)])
def test_softmax_int8_extreme_multipliers(s_in, beta):
    """The 2^31 - 1 cap on beta * s_in * 2^26, the smallest legal one, exact powers of two."""
    rng = np.random.default_rng(7)
    graph = softmax_graph((8, 50), s_in, 0, beta)
    run_exact(graph, [softmax_rows(rng, 8, 50, beta, s_in)])


@pytest.mark.parametrize("model", ["mlperf_tiny/kws/kws_ref_model_int8.tflite",
                                   "mlperf_tiny/vww/vww_96_int8.tflite",
                                   "mlperf_tiny/ic/pretrainedResnet_quant.tflite",
                                   "tflm/micro_speech_quantized.tflite",
                                   "tflm/mnist_lstm_int8.tflite"])
def test_softmax_int8_real_model_params(model):
    """The SOFTMAX quantization of real models, on many rows of every kind."""
    m = schema.ModelT.InitFromPackedBuf(shared_model(model).read_bytes(), 0)
    sub = m.subgraphs[0]
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in m.operatorCodes]
    [op] = [o for o in sub.operators if codes[o.opcodeIndex] == schema.BuiltinOperator.SOFTMAX]
    t = sub.tensors[op.inputs[0]]
    depth = int(t.shape[-1])
    s_in, beta = float(t.quantization.scale[0]), float(op.builtinOptions.beta)
    graph = softmax_graph((256, depth), s_in, int(t.quantization.zeroPoint[0]), beta)
    run_exact(graph, [softmax_rows(np.random.default_rng(depth), 256, depth, beta, s_in)])


@pytest.mark.parametrize("length", [255, 256, 257, 400, 511])
def test_softmax_int8_flat_rows_up_to_tflm_sum_limit(length):
    """Flat rows: the sum of exps is `length`, the final shift nb + 23 reaches 31."""
    graph = softmax_graph((2, length), 0.05, 0, 1.0)
    x = np.stack([np.full(length, 5), np.arange(length) % 3 - 100]).astype(np.int8)
    run_exact(graph, [x])


def test_softmax_int8_beyond_tflm_sum_limit():
    """Sums >= 512.0 need a shift > 31 (TFLM aborts); the reference rounds 256 / n exactly."""
    for n in (512, 600, 1000):
        out = softmax_int8(np.zeros((1, n), np.int8), 1.0, 0.05)
        oplab.assert_exact(np.full((1, n), -128 + round(256 / n), np.int8), out, f"n={n}")


@pytest.mark.parametrize("s_out,zp_out,beta,s_in", [(1 / 256, -127, 1.0, 0.1),
                                                    (1 / 255, -128, 1.0, 0.1),
                                                    (1 / 256, -128, 1.0, 1e-8)])
def test_softmax_int8_rejects_what_tflm_rejects(s_out, zp_out, beta, s_in):
    with pytest.raises(GraphError):
        softmax_graph((1, 10), s_in, 0, beta, s_out, zp_out)


@pytest.mark.parametrize("beta,length", [(1.0, 10), (0.5, 100), (2.0, 1000)])
def test_softmax_float_vs_litert(beta, length):
    x = act("x", (4, length), "float32")
    graph = one_op("SOFTMAX", [x], {"beta": beta}, act("out", (4, length), "float32"))
    rng = np.random.default_rng(length)
    run_float(graph, [(rng.standard_normal((4, length)) * 4).astype(np.float32)])


# ---------------------------------------------------------------- LOGISTIC, TANH

def q4_pairs(seed, count=56):
    """(scale, zp) pairs: log-uniform scales, random zps, plus edge scales (radius 0..1920)."""
    rng = np.random.default_rng(seed)
    scales = np.exp(rng.uniform(np.log(1e-3), np.log(1.0), count)).tolist()
    scales += [1 / 128, 1 / 16, 0.5, 3.0, 2.0 ** -20]
    zps = rng.integers(-128, 128, len(scales)).tolist()
    return list(zip(scales, zps))


ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16)


@pytest.mark.parametrize("s_in,zp_in", q4_pairs(11))
def test_logistic_int8_all_inputs_vs_tflm(s_in, zp_in):
    x = act("x", ALL_INT8.shape, "int8", s_in, zp_in)
    graph = one_op("LOGISTIC", [x], {}, act("out", ALL_INT8.shape, "int8", 1 / 256, -128))
    out = run_exact(graph, [ALL_INT8])[0].ravel()
    assert (np.diff(out.astype(np.int64)) >= 0).all(), "logistic must be monotone"


@pytest.mark.parametrize("s_in,zp_in", q4_pairs(12))
def test_tanh_int8_all_inputs_vs_tflm(s_in, zp_in):
    x = act("x", ALL_INT8.shape, "int8", s_in, zp_in)
    graph = one_op("TANH", [x], {}, act("out", ALL_INT8.shape, "int8", 1 / 128, 0))
    out = run_exact(graph, [ALL_INT8])[0].ravel()
    assert (np.diff(out.astype(np.int64)) >= 0).all(), "tanh must be monotone"


def test_tanh_int8_ignores_output_quantization():
    """TFLM neither checks nor applies TANH's output params: the codes are the same."""
    x = act("x", ALL_INT8.shape, "int8", 0.05, 3)
    outs = [run_exact(one_op("TANH", [x], {}, act("out", ALL_INT8.shape, "int8", s, zp)),
                      [ALL_INT8])[0] for s, zp in ((1 / 128, 0), (0.02, 17))]
    oplab.assert_exact(outs[0], outs[1])


def test_logistic_int8_rejects_output_zero_point():
    x = act("x", (1, 4), "int8", 0.05, 0)
    with pytest.raises(GraphError):
        one_op("LOGISTIC", [x], {}, act("out", (1, 4), "int8", 1 / 256, 0))


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
def test_logistic_tanh_float_vs_litert(kind):
    """Inputs span both sides of TFLite's float logistic cutoffs (-9 and 16.62)."""
    x = act("x", (2, 500), "float32")
    graph = one_op(kind, [x], {}, act("out", (2, 500), "float32"))
    values = np.random.default_rng(5).uniform(-25, 25, (2, 500)).astype(np.float32)
    run_float(graph, [values])


# ---------------------------------------------------------------- MEAN

def mean_graph(shape, axes, keep, s_in, zp_in, s_out, zp_out, dtype="int8"):
    x = act("x", shape, dtype, s_in, zp_in) if dtype == "int8" else act("x", shape, dtype)
    ax = const("axes", np.array(axes, np.int32))
    attrs = {"keep_dims": keep}
    out = out_like("MEAN", [x, ax], attrs, scale=s_out, zp=zp_out)
    return one_op("MEAN", [x, ax], attrs, out)


MEAN_AXES = [([1, 2], True), ([1, 2], False), ([3], True), ([3], False), ([1], True),
             ([1], False), ([-1], False), ([-2, -3], True), ([2, -2], False), ([0, 3], True)]
MEAN_RATIOS = [1.0, 0.5, 2.0, 0.1, 7.3, 1 / 3, 0.01, 30.0]


@pytest.mark.parametrize("case", range(40))
def test_mean_int8_vs_tflm(case):
    rng = np.random.default_rng(300 + case)
    axes, keep = MEAN_AXES[case % len(MEAN_AXES)]
    ratio = MEAN_RATIOS[case % len(MEAN_RATIOS)]
    shape = tuple(int(d) for d in rng.integers(1, 12, 4)) if case % 4 else (1, 49, 10, 8)
    s_in = float(np.exp(rng.uniform(np.log(1e-3), np.log(1.0))))
    zps = rng.integers(-128, 128, 2)
    s_out = s_in / ratio
    graph = mean_graph(shape, axes, keep, s_in, int(zps[0]), s_out, int(zps[1]))
    run_exact(graph, oplab.random_inputs(graph, rng))


def test_mean_int8_folded_multiplier_by_hand():
    """n = 2, equal scales: M = 2^30, shift 0, so the mean rounds half toward +infinity."""
    assert mean_multiplier(0.5, 0.5, 2) == (1 << 30, 0)
    assert mean_multiplier(0.5, 0.5, 3) == ((1 << 31) // 3, 0)
    graph = mean_graph((1, 4, 2), [2], False, 0.5, 0, 0.5, 0)
    x = np.array([[[-1, -2], [1, 2], [-3, -4], [-128, -127]]], np.int8)
    out = run_exact(graph, [x])[0]
    oplab.assert_exact(np.array([[-1, 2, -3, -127]], np.int8), out)


def test_mean_int8_rank2_and_rank3():
    rng = np.random.default_rng(9)
    for shape, axes in (((5, 300), [1]), ((3, 7, 11), [0, 2]), ((2, 9, 4), [-1, 1])):
        graph = mean_graph(shape, axes, False, 0.07, -20, 0.03, 11)
        run_exact(graph, oplab.random_inputs(graph, rng))


def test_mean_rejects_bad_axes():
    x = act("x", (1, 4, 4, 2), "int8", 0.1, 0)
    out = act("out", (1, 2), "int8", 0.1, 0)
    for axes in (const("axes", np.array([1, 4], np.int32)),      # out of range
                 const("axes", np.array([1, 2], np.int64)),      # not int32
                 act("axes", (2,), "int32")):                    # not a constant
        with pytest.raises(GraphError):
            one_op("MEAN", [x, axes], {"keep_dims": False}, out)


@pytest.mark.parametrize("axes,keep", MEAN_AXES[:6])
def test_mean_float_vs_litert(axes, keep):
    graph = mean_graph((2, 7, 9, 5), axes, keep, None, None, None, None, "float32")
    values = np.random.default_rng(4).uniform(0.5, 2.0, (2, 7, 9, 5)).astype(np.float32)
    run_float(graph, [values])


# ---------------------------------------------------------------- TFLite options, MACs

def written_options(graph):
    """The builtin options of the first operator of the written .tflite."""
    m = schema.ModelT.InitFromPackedBuf(write_tflite(graph), 0)
    return m.subgraphs[0].operators[0].builtinOptions


def test_tflite_options_round_trip():
    graph = softmax_graph((1, 8), 0.1, 0, 0.375)
    assert registry.get("SOFTMAX").attrs_from_tflite(written_options(graph)) == {"beta": 0.375}
    for keep in (True, False):
        graph = mean_graph((1, 4, 4, 2), [1, 2], keep, 0.1, 0, 0.1, 0)
        attrs = registry.get("MEAN").attrs_from_tflite(written_options(graph))
        assert attrs == {"keep_dims": keep}
    for kind in ("SOFTMAX", "LOGISTIC", "TANH", "MEAN"):
        assert registry.get(kind).macs(None) == 0
