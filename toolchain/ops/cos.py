"""COS: cosine element-wise, float32 only (TFLM elementwise.cc, std::cos). Evaluated in
double and rounded once: the correctly rounded value, within an ulp of any libm cosf."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Cos(FloatUnaryBase):
    kind = "COS"
    FUNC = staticmethod(lambda x: np.cos(x.astype(np.float64)))
