"""CEIL: round up to an integer value element-wise, float32 only (TFLM ceil.cc,
std::ceil; definition in float_unary.py)."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Ceil(FloatUnaryBase):
    kind = "CEIL"
    FUNC = staticmethod(np.ceil)
