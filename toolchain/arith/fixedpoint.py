"""gemmlowp / TFLite fixed-point primitives on numpy int64 arrays holding int32 values.

Formulas follow TFLite Micro's reference kernels (see shared TFLITE_INT8.md, section 1):
double rounding by default, std::frexp + std::round in QuantizeMultiplier.
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def wrap32(x) -> np.ndarray:
    """Two's-complement truncation to int32 (what C does on int32 overflow in practice)."""
    x = i64(x)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def srdhm(a, b) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul: floor((a*b + 2^30) / 2^31), saturating MIN*MIN."""
    a, b = i64(a), i64(b)
    out = (a * b + (1 << 30)) >> 31
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, out)


def rdbpot(x, exponent) -> np.ndarray:
    """RoundingDivideByPOT: x / 2^exponent rounded half away from zero (0 <= exponent <= 31)."""
    x, e = i64(x), i64(exponent)
    mask = (i64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def sat_shl(x, k: int) -> np.ndarray:
    """SaturatingRoundingMultiplyByPOT<k>: x * 2^k saturated to int32 (k < 0 divides)."""
    x = i64(x)
    if k < 0:
        return rdbpot(x, -k)
    if k == 0:
        return x
    threshold = (1 << (31 - k)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << k))


def rounding_half_sum(a, b) -> np.ndarray:
    """RoundingHalfSum: (a + b) / 2 rounded half away from zero, via int64."""
    s = i64(a) + i64(b)
    sign = np.where(s >= 0, 1, -1)
    t = s + sign
    return np.where(t >= 0, t // 2, -((-t) // 2))


def mbqm(x, multiplier, shift) -> np.ndarray:
    """MultiplyByQuantizedMultiplier (double rounding): positive shift shifts left first."""
    shift = i64(shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rdbpot(srdhm(wrap32(i64(x) << left), multiplier), right)


def quantize_multiplier(m: float) -> tuple[int, int]:
    """QuantizeMultiplier: m ~= M * 2^(s-31) with M in [2^30, 2^31); positive s = left shift."""
    if m == 0.0:
        return 0, 0
    q, s = math.frexp(m)
    q_fixed = math.floor(q * (1 << 31) + 0.5)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        s += 1
    if s < -31:
        return 0, 0
    return int(q_fixed), int(s)


def quantize_multipliers(ms) -> tuple[np.ndarray, np.ndarray]:
    """Vector form of `quantize_multiplier` (per-channel)."""
    pairs = [quantize_multiplier(float(m)) for m in np.asarray(ms, np.float64).ravel()]
    return (np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64))


def round_half_away(x) -> np.ndarray:
    """std::round / roundf: half away from zero, evaluated in float64 (never np.round)."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_value(value: float, scale: float, zero_point: int) -> int:
    """TFLite's Quantize(f) for activation bounds: zp + roundf(f / s) with a float32 division."""
    quotient = np.float32(value) / np.float32(scale)
    return int(zero_point + round_half_away(quotient))


def activation_bounds(activation: str, scale: float, zero_point: int,
                      qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """Fused activation -> clamp range of the quantized output
    (TFLite's CalculateActivationRangeQuantized)."""
    if activation == "RELU":
        return max(qmin, zero_point), qmax
    if activation == "RELU6":
        return max(qmin, zero_point), min(qmax, quantize_value(6.0, scale, zero_point))
    if activation == "RELU_N1_TO_1":
        return (max(qmin, quantize_value(-1.0, scale, zero_point)),
                min(qmax, quantize_value(1.0, scale, zero_point)))
    return qmin, qmax


def float_activation(x: np.ndarray, activation: str) -> np.ndarray:
    """Fused activation on float32 values."""
    if activation == "RELU":
        return np.maximum(x, np.float32(0))
    if activation == "RELU6":
        return np.clip(x, np.float32(0), np.float32(6))
    if activation == "RELU_N1_TO_1":
        return np.clip(x, np.float32(-1), np.float32(1))
    if activation == "TANH":
        return np.tanh(x)
    if activation == "SIGN_BIT":
        return np.signbit(x).astype(np.float32)
    return x


def mbqm64(x, multiplier, shift) -> np.ndarray:
    """MultiplyByQuantizedMultiplier, int64-x overload (int16 activations, TFLM common.cc): the
    multiplier reduced to 16 bits, then one rounding half toward +inf; the result is truncated
    to int32 without saturation. x*M' wraps in int64 as C does in practice (|x| < 2^47 in TFLM).
    """
    m, s = i64(multiplier), i64(shift)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - s
    with np.errstate(over="ignore"):
        prod = i64(x) * reduced + (i64(1) << (total - 1))
    return wrap32(prod >> total)
