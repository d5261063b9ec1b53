"""FLOOR: round down to an integer value element-wise, float32 only (TFLM floor.cc,
std::floor; definition in float_unary.py)."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Floor(FloatUnaryBase):
    kind = "FLOOR"
    FUNC = staticmethod(np.floor)
