"""EXP: e^x element-wise, float32 only (TFLM exp.cc; definition in float_unary.py).

Evaluated in double and rounded once: glibc's expf is correctly rounded, numpy's float32 exp
is not always."""
from __future__ import annotations

import numpy as np

from .float_unary import FloatUnaryBase
from .registry import register


@register
class Exp(FloatUnaryBase):
    kind = "EXP"
    tflite_options = "ExpOptions"
    FUNC = staticmethod(lambda x: np.exp(x.astype(np.float64)))
