"""int16 SOFTMAX as TFLite Micro's reference kernel computes it.

SOFTMAX (reference_ops SoftmaxInt16, LUTs from softmax_common.cc `gen_lut<float>`): exp of the
rescaled differences and 1/(1+x) of the normalized sum are read from two 513-entry int16 tables
with linear interpolation. Output scale 1/32768, zero point 0.
"""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp
from ..ir import GraphError

LUT_SIZE = 513


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

