"""Observers: pick each activation's clipping range [lo, hi] from its calibration statistics,
and TFLite's nudging that turns a range into int8 (scale, zero point).

Every observer reads the same `TensorStats` (exact min/max plus a histogram), so statistics are
gathered once and any observer can be tried without re-running the model.
"""
from __future__ import annotations

import numpy as np

from ..arith.fixedpoint import round_half_away
from ..errors import UsageError
from .calibration import TensorStats

QMIN, QMAX = -128, 127
MIN_SCALE = 1e-7     # a dead (constant-zero) tensor still needs a positive, usable scale


def choose_params(lo: float, hi: float, qmin: int = QMIN, qmax: int = QMAX) -> tuple[float, int]:
    """(scale, zero point) for real range [lo, hi] as TFLite's ChooseQuantizationParams does.

    The range is first extended to hold 0. The zero point comes from whichever end has the
    smaller rounding error and is nudged to an integer in [qmin, qmax], so real 0 is exact.
    """
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < MIN_SCALE * (qmax - qmin):
        hi = lo + MIN_SCALE * (qmax - qmin)
    scale = (hi - lo) / (qmax - qmin)
    from_min, from_max = qmin - lo / scale, qmax - hi / scale
    err_min, err_max = abs(qmin) + abs(lo / scale), abs(qmax) + abs(hi / scale)
    zp = from_min if err_min < err_max else from_max
    nudged = qmin if zp < qmin else qmax if zp > qmax else int(round_half_away(zp))
    return float(np.float32(scale)), nudged


def minmax(st: TensorStats) -> tuple[float, float]:
    """The exact range seen during calibration."""
    if st.minimum > st.maximum:                      # never saw a finite value
        return 0.0, 0.0
    return st.minimum, st.maximum


def percentile(st: TensorStats, p: float = 99.99) -> tuple[float, float]:
    """Clip the (100 - p)% tails at each end: outliers stop stretching the scale."""
    if st.radius == 0.0:
        return minmax(st)
    cum = np.cumsum(st.counts)
    total = cum[-1]
    edges = st.edges()
    hi_bin = min(int(np.searchsorted(cum, total * p / 100.0)), len(cum) - 1)
    lo_bin = min(int(np.searchsorted(cum, total * (100.0 - p) / 100.0, side="right")),
                 len(cum) - 1)
    return max(st.minimum, float(edges[lo_bin])), min(st.maximum, float(edges[hi_bin + 1]))


def quant_mse(x: np.ndarray, weight: np.ndarray, lo: float, hi: float) -> float:
    """Mean squared error of quantizing values `x` (with counts `weight`) to int8 on [lo, hi]."""
    scale, zp = choose_params(lo, hi)
    q = np.clip(np.rint(x / scale) + zp, QMIN, QMAX)
    err = x - (q - zp) * scale
    return float(np.sum(weight * err * err) / np.sum(weight))


def mse(st: TensorStats, grid: int = 100, rounds: int = 2) -> tuple[float, float]:
    """The clipping range minimizing quantization MSE on the histogram.

    Coordinate search: shrink the upper end (lower end fixed) over `grid` fractions of the
    observed max, then the lower end likewise, `rounds` times.
    """
    lo, hi = minmax(st)
    if st.radius == 0.0 or lo == hi:
        return lo, hi
    live = st.counts > 0
    x = np.clip(st.centers()[live], st.minimum, st.maximum)
    w = st.counts[live].astype(np.float64)
    fractions = np.arange(1, grid + 1) / grid
    top, bottom = max(hi, 0.0), min(lo, 0.0)
    lo, hi = bottom, top
    for _ in range(rounds):
        if top > 0:
            hi = min((top * f for f in fractions), key=lambda h: quant_mse(x, w, lo, h))
        if bottom < 0:
            lo = min((bottom * f for f in fractions), key=lambda v: quant_mse(x, w, v, hi))
    return float(lo), float(hi)


OBSERVERS = {"minmax": minmax, "percentile": percentile, "mse": mse}


def get(name: str):
    """The observer called `name`; "percentile:99.9" picks the percentile (UsageError if bad)."""
    if isinstance(name, str) and name.startswith("percentile:"):
        try:
            p = float(name.split(":", 1)[1])
        except ValueError:
            p = -1.0
        if not 50.0 < p <= 100.0:
            raise UsageError(f"observer {name!r}: the percentile must be in (50, 100]")
        return lambda st: percentile(st, p)
    try:
        return OBSERVERS[name]
    except (KeyError, TypeError):
        raise UsageError(f"unknown observer {name!r}; supported: "
                         f"{', '.join(OBSERVERS)}") from None
