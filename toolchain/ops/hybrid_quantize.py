"""LiteRT's on-the-fly input quantizers of the hybrid (dynamic-range) kernels: the NEON ones
(x86 builds run them through NEON_2_SSE), per row, bit for bit (see hybrid.py)."""
from __future__ import annotations

import numpy as np

from ..arith import fixedpoint as fp

F32 = np.float32


def _round(y: np.ndarray) -> np.ndarray:
    """Rounding of LiteRT's NEON quantizers (x86 runs them through NEON_2_SSE): the first
    size & ~7 values of a row use trunc(y +- 0.5) in float32, the tail std::round."""
    y = np.asarray(y, F32)
    vec = np.trunc((y + np.where(y < 0, F32(-0.5), F32(0.5))).astype(F32))
    body = np.arange(y.shape[-1]) < (y.shape[-1] & ~7)
    return np.where(body, vec, fp.round_half_away(y)).astype(np.int64)


def symmetric_quantize(rows: np.ndarray):
    """SymmetricQuantizeFloats per row: (q in [-127, 127], scale = max|x| / 127 as float32),
    q = round(x * (127 / max|x|)). An all-zero row gets q = 0 and scale 1, as TFLite does.
    """
    rows = np.asarray(rows, F32)
    rng = np.abs(rows).max(axis=1) if rows.shape[1] else np.zeros(rows.shape[0], F32)
    zero = rng == 0
    safe = np.where(zero, F32(1), rng).astype(F32)
    scale = np.where(zero, F32(1), safe / F32(127)).astype(F32)
    inv = (F32(127) / safe).astype(F32)
    q = np.clip(_round(rows * inv[:, None]), -127, 127)
    return np.where(zero[:, None], 0, q), scale


def asymmetric_quantize(rows: np.ndarray):
    """AsymmetricQuantizeFloats per row: (q in [-128, 127], float32 scale, int zero point).

    NEON variant: range [min(0, lo), max(0, hi)], scale = float32 (hi - lo) / 255.0 in double,
    nudged zero point in double, q = round(x * float(1.0 / scale)) + zp. An all-zero row gets
    (0, 1, 0).
    """
    rows = np.asarray(rows, F32)
    lo = np.minimum(rows.min(axis=1), F32(0)) if rows.shape[1] else np.zeros(len(rows), F32)
    hi = np.maximum(rows.max(axis=1), F32(0)) if rows.shape[1] else np.zeros(len(rows), F32)
    zero = lo == hi
    scale64 = np.where(zero, 1.0, (hi - lo).astype(F32).astype(np.float64) / 255.0)
    rmin, rmax = lo.astype(np.float64), hi.astype(np.float64)
    zp_min, zp_max = -128.0 - rmin / scale64, 127.0 - rmax / scale64
    err_min = 128.0 + np.abs(rmin / scale64)
    err_max = 127.0 + np.abs(rmax / scale64)
    zp = np.where(err_min < err_max, zp_min, zp_max)
    zp = np.where(zp <= -128.0, -128.0, np.where(zp >= 127.0, 127.0, fp.round_half_away(zp)))
    zp = np.where(zero, 0, zp).astype(np.int64)
    scale = scale64.astype(F32)
    inv = (1.0 / scale.astype(np.float64)).astype(F32)
    q = np.clip(_round(rows * inv[:, None]) + zp[:, None], -128, 127)
    return np.where(zero[:, None], 0, q), scale, zp
