"""int16 LOGISTIC, TANH, SOFTMAX, RELU, RELU6 and DEQUANTIZE: the numpy reference equals TFLite
Micro exactly over the full int16 input range, for power-of-two and general input scales
(TFLM's two LOGISTIC/TANH Prepare paths, both shift signs of SOFTMAX's multiplier). The graphs
are shared with tests/test_c_int16_nonlinear.py (C kernels vs this reference).
"""
from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np
import pytest

import oplab
from toolchain.ir import GraphError
from toolchain.ops import int16_nonlinear as nl
from toolchain.ops import int16_softmax as sm

FULL = np.arange(-32768, 32768, dtype=np.int16).reshape(1, 256, 256)
Q15 = 1.0 / 32768
# power-of-two scales hit Prepare's multiplier-0 path (2^-12; TANH also 2^-11), others the
# 16-bit multiplier; 0.2 saturates almost everything, 2^-15 barely leaves the linear part
SIGMOID_SCALES = (2.0 ** -12, 2.0 ** -11, 2.0 ** -15, 1 / 3000, 5e-4, 1e-4, 1e-3, 0.01, 0.2)
SOFTMAX_CASES = [  # (shape, input scale, beta)
    ((4, 37), 1 / 4096, 1.0), ((3, 5, 16), 1e-4, 1.0), ((6, 10), 3e-3, 0.5),
    ((2, 300), 1e-5, 2.0), ((5, 1), 1 / 4096, 1.0), ((1, 2, 3, 12), 2e-4, 0.7)]


def unary_graph(kind: str, shape, s_in: float, s_out: float = Q15, attrs=None):
    x = oplab.act("x", shape, "int16", scale=s_in)
    out = oplab.act("out", shape, "int16", scale=s_out, zp=0)
    return oplab.one_op(kind, [x], attrs or {}, out)


def softmax_inputs(shape, rng) -> np.ndarray:
    """Full-range rows, and rows squeezed near their max (many live exps, ties)."""
    x = rng.integers(-32768, 32768, shape)
    x[..., ::2, :] //= 97
    return x.astype(np.int16)


def check_tflm(graph, inputs):
    ref, tflm = oplab.run_reference_and_tflm(graph, inputs)
    for i, (want, got) in enumerate(zip(ref, tflm)):
        oplab.assert_exact(want, np.asarray(got).reshape(want.shape), f"tflm output {i}")
    return ref


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("s_in", SIGMOID_SCALES, ids=lambda s: f"{s:.3g}")
def test_logistic_tanh_int16_tflm_exact(kind, s_in):
    out = check_tflm(unary_graph(kind, FULL.shape, s_in), [FULL])[0].astype(np.int64)
    assert np.all(np.diff(out.ravel()) >= 0)               # monotone over the whole range
    real = FULL.astype(np.float64) * s_in
    want = 0.5 + 0.5 * np.tanh(real / 2) if kind == "LOGISTIC" else np.tanh(real)
    assert np.max(np.abs(out * Q15 - want)) < 2e-4          # and close to the real function


def test_prepare_paths_are_both_covered():
    mults = {nl.q3_input_params(k, s)[0] for k in ("LOGISTIC", "TANH") for s in SIGMOID_SCALES}
    assert 0 in mults and len(mults) > 3
    assert nl.q3_input_params("TANH", 2.0 ** -11) == (0, 1)
    assert nl.q3_input_params("LOGISTIC", 2.0 ** -11)[0] != 0


def test_sigmoid_table_is_tflites_fitted_table():
    t = nl.sigmoid_table().astype(np.int64) + 32768
    assert t[0] == 32768 and t[-1] == 65535 and np.all(np.diff(t) >= 0)
    rounded = np.round(65536 / (1 + np.exp(-np.arange(256) / 24)))
    assert set(np.unique(t - rounded)) == {0, 1}


@pytest.mark.parametrize("case", SOFTMAX_CASES, ids=str)
def test_softmax_int16_tflm_exact(case):
    shape, s_in, beta = case
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    graph = unary_graph("SOFTMAX", shape, s_in, attrs=dict(beta=beta))
    x = softmax_inputs(shape, rng)
    out = check_tflm(graph, [x])[0].astype(np.float64) * Q15
    z = x.astype(np.float64) * s_in * beta
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    assert np.max(np.abs(out - p / p.sum(axis=-1, keepdims=True))) < 2e-3


def test_softmax_shifts_take_both_signs():
    shifts = {np.sign(sm.softmax_params(b, s)[1]) for _, s, b in SOFTMAX_CASES}
    assert shifts >= {1, -1}


def _glibc_expf():
    lib = ctypes.CDLL(ctypes.util.find_library("m"))
    lib.expf.restype, lib.expf.argtypes = ctypes.c_float, [ctypes.c_float]
    return lambda x: np.array([lib.expf(float(v)) for v in np.ravel(x)], np.float32
                              ).reshape(np.shape(x))


def test_exp_lut_equals_one_built_with_the_c_librarys_expf():
    oplab.assert_exact(sm.gen_lut(_glibc_expf(), -10.0, 0.0), sm.exp_lut(), "exp lut")
    lut = sm.recip_lut()
    assert lut[0] == 32767 and lut[-1] == 16384 and np.all(np.diff(lut.astype(int)) <= 0)


@pytest.mark.parametrize("s_in,s_out", [(1 / 4096, 1 / 4096), (3e-4, 1e-4), (1e-4, 7e-4)])
def test_relu_int16_tflm_exact(s_in, s_out):
    check_tflm(unary_graph("RELU", FULL.shape, s_in, s_out), [FULL])


@pytest.mark.parametrize("s_in", [1 / 4096, 3e-4, 1e-3])
def test_relu6_int16_tflm_exact(s_in):
    out = check_tflm(unary_graph("RELU6", FULL.shape, s_in, s_in), [FULL])[0]
    assert out.min() == 0 and out.max() == round(6 / s_in)


@pytest.mark.parametrize("scale,zp", [(1 / 4096, 0), (3e-4, 0), (0.37, 0)])
def test_dequantize_int16_tflm_exact(scale, zp):
    x = oplab.act("x", FULL.shape, "int16", scale=scale, zp=zp)
    graph = oplab.one_op("DEQUANTIZE", [x], {}, oplab.act("out", FULL.shape, "float32"))
    ref, tflm = oplab.run_reference_and_tflm(graph, [FULL])
    oplab.assert_exact(ref[0].view(np.int32), np.asarray(tflm[0]).reshape(FULL.shape)
                       .view(np.int32), "float bits")


@pytest.mark.parametrize("kind,s_out,zp,match", [
    ("LOGISTIC", 1 / 256, 0, "1/32768"), ("TANH", Q15, 5, "zero point"),
    ("SOFTMAX", 1 / 30000, 0, "1/32768"), ("SOFTMAX", Q15, -3, "zero point")])
def test_int16_output_params_are_checked(kind, s_out, zp, match):
    x = oplab.act("x", (1, 8), "int16", scale=1 / 4096)
    with pytest.raises(GraphError, match=match):
        oplab.one_op(kind, [x], {}, oplab.act("out", (1, 8), "int16", scale=s_out, zp=zp))


def test_int16_input_scale_too_large_is_refused():
    with pytest.raises(GraphError, match="too large"):
        unary_graph("LOGISTIC", (1, 8), 4.0)

