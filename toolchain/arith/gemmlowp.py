"""gemmlowp fixed-point transcendentals on numpy int64 arrays holding int32 raw values.

A FixedPoint<int32, I> raw r stands for r / 2^(31-I). These are the functions TFLite Micro's
int8 SOFTMAX, LOGISTIC and TANH call (gemmlowp fixedpoint.h, TFLM common.h GetReciprocal);
they must match bit for bit, so every step is the C arithmetic: `*` is SRDHM, `+`/`-` wrap
in int32, Rescale is a saturating shift (see shared TFLITE_INT8.md).
"""
from __future__ import annotations

import numpy as np

from .fixedpoint import (INT32_MAX, INT32_MIN, i64, rdbpot, rounding_half_sum, sat_shl, srdhm,
                         wrap32)

ONE_Q0 = INT32_MAX                  # One() of FixedPoint<int32, 0>
EXP_MINUS_ONE_EIGHTH = 1895147668   # exp(-1/8) in Q0.31
ONE_THIRD = 715827883               # 1/3 in Q0.31
# exp(-2^k) in Q0.31 for k = -2..4: the barrel shifter of exp_on_negative_values
EXP_BARREL = {-2: 1672461947, -1: 1302514674, 0: 790015084, 1: 290630308, 2: 39332535,
              3: 720401, 4: 242}
C48_OVER_17 = 1515870810            # 48/17 in Q2.29
CNEG32_OVER_17 = -1010580540        # -32/17 in Q2.29


def _add(a, b) -> np.ndarray:
    return wrap32(i64(a) + i64(b))


def _sub(a, b) -> np.ndarray:
    return wrap32(i64(a) - i64(b))


def exp_quarter(a) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8."""
    x = _add(a, 1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    poly = rdbpot(_add(srdhm(_add(rdbpot(x4, 2), x3), ONE_THIRD), x2), 1)
    return _add(EXP_MINUS_ONE_EIGHTH, srdhm(EXP_MINUS_ONE_EIGHTH, _add(x, poly)))


def exp_on_negative_values(a, integer_bits: int) -> np.ndarray:
    """exp(a) for a <= 0 given as Q(I).(31-I) raw; result in Q0.31 (exp(0) = 2^31 - 1)."""
    a = i64(a)
    frac = 31 - integer_bits
    quarter = 1 << (frac - 2)
    r = _sub(a & (quarter - 1), quarter)     # a mod 1/4, shifted into [-1/4, 0)
    y = exp_quarter(sat_shl(r, integer_bits))
    remainder = _sub(r, a)                   # the multiple of 1/4 still to apply
    for k, mult in EXP_BARREL.items():
        if integer_bits > k:
            bit = ((remainder >> (frac + k)) & 1).astype(bool)
            y = np.where(bit, srdhm(y, mult), y)
    if integer_bits > 5:
        y = np.where(a < -(1 << (36 - integer_bits)), 0, y)
    return np.where(a == 0, ONE_Q0, y)


def _newton_half_reciprocal(half_denominator) -> np.ndarray:
    """Q2.29 approximation of 1 / half_denominator (three Newton-Raphson steps)."""
    h = i64(half_denominator)
    x = _add(C48_OVER_17, srdhm(h, CNEG32_OVER_17))
    for _ in range(3):
        one_minus_hx = _sub(1 << 29, srdhm(h, x))
        x = _add(x, sat_shl(srdhm(x, one_minus_hx), 2))
    return x


def one_over_one_plus_x(a) -> np.ndarray:
    """1 / (1 + a) for a in [0, 1), Q0.31 in and out."""
    x = _newton_half_reciprocal(rounding_half_sum(a, ONE_Q0))
    return sat_shl(x, 1)


def one_minus_x_over_one_plus_x(a) -> np.ndarray:
    """(1 - a) / (1 + a) for a in [0, 1), Q0.31 in and out."""
    x = _newton_half_reciprocal(rounding_half_sum(a, ONE_Q0))
    return sat_shl(_sub(x, 1 << 29), 2)


def logistic(a, integer_bits: int) -> np.ndarray:
    """1 / (1 + exp(-a)) for a in Q(I).(31-I); result Q0.31 (logistic(0) = 2^30)."""
    a = i64(a)
    neg_abs = np.where(a > 0, _sub(0, a), a)
    p = one_over_one_plus_x(exp_on_negative_values(neg_abs, integer_bits))
    return np.where(a == 0, 1 << 30, np.where(a > 0, p, _sub(ONE_Q0, p)))


def tanh(a, integer_bits: int) -> np.ndarray:
    """tanh(a) for a in Q(I).(31-I); result Q0.31."""
    a = i64(a)
    neg_abs = np.where(a < 0, a, _sub(0, a))
    # the raw of -|a| relabelled with one more integer bit is the value -2|a|
    t = one_minus_x_over_one_plus_x(exp_on_negative_values(neg_abs, integer_bits + 1))
    return np.where(a == 0, 0, np.where(a < 0, _sub(0, t), t))


def clz32(x) -> np.ndarray:
    """Count of leading zeros of x as uint32 (32 for zero)."""
    u = i64(x) & 0xFFFFFFFF
    _, exponent = np.frexp(u.astype(np.float64))   # exact: u < 2^53
    return 32 - exponent.astype(np.int64)


def get_reciprocal(x, integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLM GetReciprocal: (Q0.31 raw of 2^-nb / (x as Q(digits)), num_bits_over_unit nb)."""
    u = i64(x) & 0xFFFFFFFF
    headroom_plus_one = clz32(u)
    bits_over_unit = integer_digits - headroom_plus_one
    shifted_minus_one = wrap32(((u << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return one_over_one_plus_x(shifted_minus_one), bits_over_unit


# constants of TFLite's log_x_for_x_greater_than_or_equal_to_1 (Q0.31)
LOG_2 = 1488522236
SQRT_SQRT_HALF = 1805811301
SQRT_HALF = 1518500250
ONE_QUARTER = 1 << 29
LOG_ALPHA_N, LOG_ALPHA_D = 117049297, 127690142
LOG_ALPHA_I, LOG_ALPHA_F = 1057819769, 638450708


def sat_shl_param(x, k) -> np.ndarray:
    """SaturatingRoundingMultiplyByPOTParam with a per-element exponent k (0 <= k <= 31)."""
    x, k = i64(x), i64(k)
    threshold = (i64(1) << (31 - k)) - 1
    return np.where(x > threshold, INT32_MAX,
                    np.where(x < -threshold, INT32_MIN, x << k))


def _sat_add(a, b) -> np.ndarray:
    return np.clip(i64(a) + i64(b), INT32_MIN, INT32_MAX)


def log_x_ge_1(x, out_bits: int, in_bits: int) -> np.ndarray:
    """TFLite's log_x_for_x_greater_than_or_equal_to_1: ln(x) of a positive Q(in_bits) raw,
    as a Q(out_bits) raw. The extra accumulator bit keeps z * ln 2 from saturating."""
    accum = out_bits + 1
    quarter = rdbpot(ONE_QUARTER, accum)
    z = i64(x)
    za_headroom_plus_1 = clz32(z)
    r_a = sat_shl(srdhm(sat_shl_param(z, za_headroom_plus_1 - 1), SQRT_HALF), 1)
    za_pow2 = _sat_add(sat_shl_param(in_bits - za_headroom_plus_1, 31 - accum), quarter)
    z_b = srdhm(z, SQRT_HALF)
    zb_headroom = clz32(z_b) - 1
    r_b = sat_shl_param(z, zb_headroom)
    zb_pow2 = np.clip(sat_shl_param(in_bits - zb_headroom, 31 - accum) - quarter,
                      INT32_MIN, INT32_MAX)
    r = np.minimum(r_a, r_b)
    z_pow2 = np.maximum(za_pow2, zb_pow2)
    p = rounding_half_sum(r, SQRT_SQRT_HALF)
    q = _sub(r, SQRT_SQRT_HALF)
    q = _add(q, q)
    sq = srdhm(q, q)
    num = _add(srdhm(q, r), srdhm(srdhm(q, sq), LOG_ALPHA_N))
    inner = _add(_add(LOG_ALPHA_I, q), srdhm(LOG_ALPHA_D, sq))
    denom_minus_one = _add(srdhm(p, inner), srdhm(LOG_ALPHA_F, q))
    recip = one_over_one_plus_x(denom_minus_one)
    total = _add(srdhm(z_pow2, LOG_2), srdhm(rdbpot(num, accum), recip))
    return sat_shl(total, accum - out_bits)


def inv_sqrt_multiplier(x: int, reverse_shift: int = -1) -> tuple[int, int]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp for one int32 x >= 0: (multiplier, shift)
    with 1/sqrt(x) ~ multiplier * 2^(shift - 31) for reverse_shift -1 (Newton in Q3.28)."""
    if x <= 1:
        return INT32_MAX, 0
    shift = 11
    while x >= 1 << 29:
        x //= 4
        shift += 1
    pairs = (int(clz32(x)) - 1) // 2 - 1
    shift -= pairs
    x <<= 2 * pairs
    half_input = int(rdbpot(x >> 1, 1))
    half_three = (1 << 28) + (1 << 27)
    y = 1 << 28                                  # One() in Q3.28
    for _ in range(5):
        y3 = sat_shl(srdhm(srdhm(y, y), y), 6)
        y = int(sat_shl(_sub(srdhm(half_three, y), srdhm(half_input, y3)), 3))
    inv = int(srdhm(y, SQRT_HALF))
    if shift < 0:
        inv, shift = int(wrap32(inv << -shift)), 0
    return inv, shift * reverse_shift
