"""SIN: sine element-wise, evaluated in double and rounded once, float32 only (TFLM elementwise.cc, std::sin; definition in float_unary.py)."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Sin(FloatUnaryBase):
    kind = "SIN"
    FUNC = staticmethod(lambda x: np.sin(x.astype(np.float64)))
