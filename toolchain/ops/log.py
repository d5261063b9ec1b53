"""LOG: natural logarithm element-wise, float32 only (TFLM elementwise.cc, std::log).
Evaluated in double and rounded once: the correctly rounded value, within an ulp of any
libm logf."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Log(FloatUnaryBase):
    kind = "LOG"
    FUNC = staticmethod(lambda x: np.log(x.astype(np.float64)))
