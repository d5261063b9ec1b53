"""COS: cosine element-wise, evaluated in double and rounded once, float32 only (TFLM elementwise.cc, std::cos; definition in float_unary.py)."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Cos(FloatUnaryBase):
    kind = "COS"
    FUNC = staticmethod(lambda x: np.cos(x.astype(np.float64)))
