"""ROUND: round half to even element-wise, float32 only (TFLM round.cc RoundToNearest).

TFLM computes f = floor(x), d = x - f and returns f when d < 0.5 or (d == 0.5 and f is even),
else f + 1; so -0.3 rounds to +0.0 (np.rint gives -0.0), and NaN stays NaN. The reference is
that expression in float32; fitml_round_f32 the same in C."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


def round_to_nearest(x: np.ndarray) -> np.ndarray:
    """TFLM's RoundToNearest per element, float32."""
    x = np.asarray(x, np.float32)
    floor = np.floor(x)
    diff = x - floor
    keep = (diff < np.float32(0.5)) | ((diff == np.float32(0.5)) & (np.fmod(floor, 2) == 0))
    return np.where(keep, floor, floor + np.float32(1)).astype(np.float32)


@register
class Round(FloatUnaryBase):
    kind = "ROUND"
    FUNC = staticmethod(round_to_nearest)
