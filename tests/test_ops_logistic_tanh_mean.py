"""LOGISTIC, TANH and MEAN: seeded one-op graphs; the int8 reference == TFLite Micro exactly
(LOGISTIC and TANH on every int8 input of many input quantizations, monotone; MEAN over axes,
keep_dims and scale ratios, its folded multiplier by hand), float within 1e-5 of LiteRT and
TFLM; what TFLM rejects is refused; SOFTMAX and MEAN options round-trip through the written
.tflite, none of these ops has MACs."""
from __future__ import annotations

import numpy as np
import oplab
import pytest
from ai_edge_litert import schema_py_generated as schema
from oplab import act, const, one_op

from toolchain.backends.tflite import write_tflite
from toolchain.ir import GraphError
from toolchain.ops import registry
from toolchain.ops.mean import mean_multiplier
from nonlinear_cases import mean_graph, run_exact, run_float, softmax_graph


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
