"""int16 LOGISTIC, TANH and SOFTMAX as TFLite Micro's reference kernels compute them.

LOGISTIC / TANH (reference_integer_ops Logistic/Tanh int16, Prepare in logistic_common.cc /
tanh.cc): the input is rescaled to 1/(3*4096) per unit by an int16-sized multiplier and a right
shift, then a 256-entry table of sigmoid(i/24) (0.16 fixed point) is interpolated on |x|;
tanh(x) = 2*sigmoid(2x) - 1 reads the same table at twice the resolution. Outputs are Q0.15
(scale 2^-15, zero point 0, checked by Prepare through CheckedLog2).

SOFTMAX (reference_ops SoftmaxInt16, LUTs from softmax_common.cc `gen_lut<float>`): exp of the
rescaled differences and 1/(1+x) of the normalized sum are read from two 513-entry int16 tables
with linear interpolation. Output scale 1/32768, zero point 0.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import GraphError
from ..arith import fixedpoint as fp

LUT_SIZE = 513


# TFLite's sigmoid_table_uint16 was fitted for interpolation, not rounded: it is
# round(65536 * sigmoid(i / 24)) plus 1 where bit i of this mask is set (checked exhaustively
# against TFLite Micro by tests/test_ops_int16_nonlinear.py).
SIGMOID_TABLE_FIXUPS = int("800000000000000000000000000000800011009020440005c0467baefa7bd110", 16)


def sigmoid_table() -> np.ndarray:
    """TFLite's sigmoid(i/24) table (0.16 fixed point, i = 0..255) as int16 offsets from 32768
    (every entry is in [32768, 65535]; the C kernel stores them so)."""
    i = np.arange(256)
    rounded = fp.round_half_away(65536.0 / (1.0 + np.exp(-i / 24.0))).astype(np.int64)
    full = rounded + ((SIGMOID_TABLE_FIXUPS >> i.astype(object)) & 1).astype(np.int64)
    return (full - 32768).astype(np.int16)


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLite's CheckedLog2 in float32: (|frac(log2 x)| < 1e-3, round(log2 x))."""
    lg = np.float32(np.log(np.float32(x))) * (np.float32(1) / np.float32(np.log(np.float32(2))))
    r = float(fp.round_half_away(lg))
    return bool(abs(np.float32(lg - np.float32(r))) < np.float32(1e-3)), int(r)


def q3_input_params(kind: str, s_in: float) -> tuple[int, int]:
    """(multiplier, left shift) as LOGISTIC / TANH Prepare stores them (multiplier 0: the
    power-of-two case, the kernel then uses 3 << shift)."""
    pot, log2 = checked_log2(s_in)
    shift = 12 + log2
    if pot and (shift == 0 or (kind == "TANH" and shift == 1)):
        return 0, shift
    mult, shift = float(np.float32(s_in)) * 4096.0 * 3.0, 0
    while mult <= 32767.0 / 2.0 and shift <= 30:
        shift, mult = shift + 1, mult * 2.0
    if mult > 32767.0:
        raise GraphError(f"{kind}: int16 input scale {s_in:g} too large (TFLM's multiplier "
                         "exceeds 16 bits)")
    return int(mult), shift


def check_q15_output(kind: str, out) -> None:
    """Prepare's output check: zero point 0 and a scale that is 2^-15 (within CheckedLog2)."""
    pot, log2 = checked_log2(out.quant.s)
    if out.quant.zp != 0 or not pot or log2 != -15:
        raise GraphError(f"{kind}: int16 output must have scale 1/32768 and zero point 0, got "
                         f"scale {out.quant.s:g} zero point {out.quant.zp}")


def _rescale(q: np.ndarray, mult: int, shift: int) -> np.ndarray:
    if mult == 0:
        mult, shift = 3 << shift, 0
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    return (fp.i64(q) * mult + rnd) >> shift


def logistic_s16(q: np.ndarray, mult: int, shift: int) -> np.ndarray:
    x = _rescale(q, mult, shift)
    a = np.abs(x)
    uh = np.minimum(a >> 9, 254)
    table = sigmoid_table().astype(np.int64) + 32768
    ua, ub = table[uh], table[uh + 1]
    r = np.where((a >> 9) >= 255, 0x7FFF << 10, (ua << 9) + (a & 0x1FF) * (ub - ua))
    r = np.where(x >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return (r >> 10).astype(np.int16)


def tanh_s16(q: np.ndarray, mult: int, shift: int) -> np.ndarray:
    x = _rescale(q, mult, shift)
    a = np.abs(x)
    uh = np.minimum(a >> 8, 254)
    table = sigmoid_table().astype(np.int64) + 32768
    ua, ub = table[uh], table[uh + 1]
    r = np.where((a >> 8) >= 255, 0xFFFF << 8, (ua << 8) + (a & 0xFF) * (ub - ua))
    r = np.where(x >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return (r >> 8).astype(np.int16)


def gen_lut(func, lo: float, hi: float) -> np.ndarray:
    """TFLite's gen_lut<float, int16_t, int16_t>(func, lo, hi, -1, 1): 512 samples corrected by
    half their midpoint interpolation error, plus func(hi) for the last slope; float32 math."""
    f32 = np.float32
    lo, hi = f32(lo), f32(hi)
    step = (hi - lo) / f32(512)
    half = step / f32(2)
    i = np.arange(512, dtype=np.float32)
    inv = f32(32768.0)
    val, mid = func(lo + i * step), func(lo + i * step + half)
    nxt = func(lo + (i + f32(1)) * step)
    sample = fp.round_half_away(val * inv).astype(np.float32)
    interp = fp.round_half_away((nxt * inv + sample) / f32(2)).astype(np.float32)
    bias = fp.round_half_away((interp - fp.round_half_away(mid * inv).astype(np.float32))
                              / f32(2)).astype(np.float32)
    last = fp.round_half_away(func(np.array([hi], np.float32)) * inv)
    table = np.concatenate([sample - bias, last])
    return np.clip(table, -32768, 32767).astype(np.int16)


def _expf(x):
    """float32 exp, correctly rounded (as glibc's expf for these arguments)."""
    return np.exp(np.asarray(x, np.float64)).astype(np.float32)


def exp_lut() -> np.ndarray:
    return gen_lut(_expf, -10.0, 0.0)


def recip_lut() -> np.ndarray:
    return gen_lut(lambda x: np.float32(1) / (np.float32(1) + np.asarray(x, np.float32)),
                   0.0, 1.0)


def lut_lookup(v: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """lut_lookup_with_interpolation: base lut[256 + v>>7] plus the rounded slope share."""
    v = fp.i64(v)
    index = 256 + (v >> 7)
    lut = lut.astype(np.int64)
    base = lut[index]
    slope = ((lut[index + 1] - base + 32768) & 0xFFFF) - 32768     # int16 wrap
    return (((base + ((slope * (v & 0x7F) + 64) >> 7)) + 32768) & 0xFFFF) - 32768


def softmax_params(beta: float, s_in: float) -> tuple[int, int]:
    """(multiplier, shift): the input differences rescaled so [-65535, 0] spans [-10, 0]."""
    return fp.quantize_multiplier(float(np.float32(s_in)) * float(np.float32(beta))
                                  / (10.0 / 65535.0))


def check_softmax_output(out) -> None:
    s, zp = out.quant.s, out.quant.zp
    if zp != 0 or abs(float(np.float32(s)) - 1.0 / 32768) > 0.001 / 32768:
        raise GraphError(f"SOFTMAX: int16 output must have scale 1/32768 and zero point 0, got "
                         f"scale {s:g} zero point {zp}")


def softmax_s16(q: np.ndarray, beta: float, s_in: float) -> np.ndarray:
    """SoftmaxInt16 along the last axis."""
    mult, shift = softmax_params(beta, s_in)
    x = fp.i64(q)
    diff = x - x.max(axis=-1, keepdims=True)
    sym = np.clip(fp.mbqm(diff, mult, shift) + 32767, -32768, 32767)
    exps = lut_lookup(sym, exp_lut())
    total = exps.sum(axis=-1, keepdims=True)
    hpo = 32 - np.frexp(total.astype(np.float64))[1].astype(np.int64)       # clz(total)
    shifted = ((total << (hpo - 1)) + (1 << 13)) >> 14
    recip = lut_lookup(np.clip(shifted - (1 << 15) - (1 << 16), -32768, 32767), recip_lut())
    right = 31 - hpo
    out = (exps * recip + (np.int64(1) << (right - 1))) >> right
    return np.clip(out, 0, 32767).astype(np.int16)

