"""SIN: sine element-wise, float32 only (TFLM elementwise.cc, std::sin). Evaluated in
double and rounded once: the correctly rounded value, within an ulp of any libm sinf."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Sin(FloatUnaryBase):
    kind = "SIN"
    FUNC = staticmethod(lambda x: np.sin(x.astype(np.float64)))
