"""LOG: natural logarithm element-wise, evaluated in double and rounded once, float32 only (TFLM elementwise.cc, std::log; definition in float_unary.py)."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Log(FloatUnaryBase):
    kind = "LOG"
    FUNC = staticmethod(lambda x: np.log(x.astype(np.float64)))
