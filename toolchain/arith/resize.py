"""Source coordinates of TFLite's RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR, per output row
or column, exactly as the reference kernels compute them (float32 for nearest and float
bilinear, 10-bit fixed point for int8 bilinear). The op references and the C lowerings both
use these tables, so the C kernels only gather and weigh.
"""
from __future__ import annotations

import numpy as np

F32 = np.float32
ONE_10 = 1 << 10


def _float_scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    if align_corners and out_size > 1:
        return F32(in_size - 1) / F32(out_size - 1)
    return F32(in_size) / F32(out_size)


def nearest_indices(in_size: int, out_size: int, align_corners: bool,
                    half_pixel_centers: bool) -> np.ndarray:
    """Input index of each output index (GetNearestNeighbor; round = half away from zero)."""
    scale = _float_scale(in_size, out_size, align_corners)
    offset = F32(0.5) if half_pixel_centers else F32(0.0)
    out = []
    for i in range(out_size):
        v = (F32(i) + offset) * scale
        exact = float(v)                            # a float32 value, exact as a double
        j = int(np.copysign(np.floor(abs(exact) + 0.5), exact)) if align_corners \
            else int(np.floor(exact))
        j = min(j, in_size - 1)
        out.append(max(j, 0) if half_pixel_centers else j)
    return np.asarray(out, np.int64)


def bilinear_float(in_size: int, out_size: int, align_corners: bool,
                   half_pixel_centers: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, fraction) per output index: fraction = scaled - lower, float32."""
    scale = _float_scale(in_size, out_size, align_corners)
    lo, hi, frac = [], [], []
    for i in range(out_size):
        scaled = (F32(i) + F32(0.5)) * scale - F32(0.5) if half_pixel_centers else F32(i) * scale
        low = max(int(np.floor(scaled)), 0)
        lo.append(low)
        hi.append(min(int(np.ceil(scaled)), in_size - 1))
        frac.append(F32(scaled - F32(low)))
    return np.asarray(lo, np.int64), np.asarray(hi, np.int64), np.asarray(frac, F32)


def _trunc_div(a: int, b: int) -> int:
    """C's integer division (toward zero) for b > 0."""
    return -(-a // b) if a < 0 else a // b


def bilinear_int(in_size: int, out_size: int, align_corners: bool,
                 half_pixel_centers: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, fraction in 1/1024) per output index (ResizeBilinearInteger).

    The lower bound is not clamped to the input (TFLM does not either): `in_range` checks it.
    """
    if align_corners and out_size > 1:
        scale = (ONE_10 * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = (ONE_10 * in_size + out_size // 2) // out_size
    lo, hi, frac = [], [], []
    for i in range(out_size):
        scaled = i * scale + scale // 2 - (1 << 9) if half_pixel_centers else i * scale
        low = max(_trunc_div(scaled, ONE_10), 0)
        lo.append(low)
        hi.append(min(_trunc_div(scaled + ONE_10 - 1, ONE_10), in_size - 1))
        frac.append(scaled - ONE_10 * low)
    return np.asarray(lo, np.int64), np.asarray(hi, np.int64), np.asarray(frac, np.int64)


def bilinear_int_combine(acc: np.ndarray) -> np.ndarray:
    """(acc +- 2^19) / 2^20 toward zero: TFLM's default (double rounding) int8 result."""
    acc = np.asarray(acc, np.int64)
    biased = acc + np.where(acc > 0, 1 << 19, -(1 << 19))
    return np.sign(biased) * (np.abs(biased) >> 20)
