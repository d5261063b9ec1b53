"""The gemmlowp fixed-point math under SOFTMAX, LOGISTIC and TANH (exp on negative values,
1 / (1 + x), logistic, tanh, clz32 and the reciprocal): hand-derived values, exact symmetries and
accuracy against float math."""
from __future__ import annotations

import math

import numpy as np
import oplab
import pytest

from toolchain.arith import gemmlowp as gl
from toolchain.arith.fixedpoint import INT32_MAX, rdbpot, srdhm


Q31 = 2.0 ** 31


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
