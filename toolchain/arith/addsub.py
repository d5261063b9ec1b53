"""TFLite's ADD and SUB share one int8 arithmetic (TFLM `AddFunc` / `SubFunc`): each input is
shifted left by 20 and rescaled to twice the larger input scale with its own rounding, the two
are added (or subtracted), then rescaled to the output. It does not reduce to one multiplier.

All three multipliers are derived in double for both ops. TFLITE_INT8.md (TFLM 90b983c2) says
SUB derives them in float32, but the tflite-micro build we verify against, and LiteRT, use
double for SUB too (tests/test_ops_elementwise_binary.py shows the float32 variant disagreeing);
`addsub_multipliers(float32=True)` keeps that variant for comparison only.
"""
from __future__ import annotations

import numpy as np

from . import fixedpoint as fp

LEFT_SHIFT = 20
LEFT_SHIFTS = {"int8": LEFT_SHIFT, "int16": 15}   # TFLM add_common.cc / sub_common.cc


def addsub_multipliers(s1: float, s2: float, s_out: float, float32: bool = False,
                       left_shift: int = LEFT_SHIFT):
    """[(M1, shift1), (M2, shift2), (M_out, shift_out)] and the real output multiplier."""
    if float32:  # old TFLM SUB: every quotient evaluated in float32, then widened
        f1, f2, fo = np.float32(s1), np.float32(s2), np.float32(s_out)
        twice = np.float32(2) * max(f1, f2)
        reals = [float(f1 / twice), float(f2 / twice),
                 float(twice / (np.float32(1 << left_shift) * fo))]
    else:
        twice = 2.0 * max(float(s1), float(s2))
        reals = [float(s1) / twice, float(s2) / twice,
                 twice / ((1 << left_shift) * float(s_out))]
    return [fp.quantize_multiplier(m) for m in reals], reals[2]


def scale_down(x: np.ndarray, mult: int, shift: int) -> np.ndarray:
    """MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0)."""
    return fp.rdbpot(fp.srdhm(x, mult), -shift)


def addsub_int8(q1, q2, zp1: int, zp2: int, zp_out: int, params, sign: int,
                lo: int, hi: int, left_shift: int = LEFT_SHIFT, dtype=np.int8) -> np.ndarray:
    """Per-element TFLM int8 ADD (sign=+1) / SUB (sign=-1), with numpy broadcasting; int16
    (TFLM's general-scale path, `pot_scale` false) is the same with left shift 15."""
    (m1, e1), (m2, e2), (mo, eo) = params
    a1 = scale_down(fp.wrap32((fp.i64(q1) - zp1) << left_shift), m1, e1)
    a2 = scale_down(fp.wrap32((fp.i64(q2) - zp2) << left_shift), m2, e2)
    total = fp.wrap32(a1 + sign * a2)
    out = scale_down(total, mo, eo) + zp_out
    return np.clip(out, lo, hi).astype(dtype)
