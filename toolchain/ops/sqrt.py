"""SQRT: element-wise square root, float32 only (TFLM elementwise.cc; float_unary.py)."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Sqrt(FloatUnaryBase):
    kind = "SQRT"
    FUNC = staticmethod(np.sqrt)
