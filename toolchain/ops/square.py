"""SQUARE: x * x element-wise, float32 only (TFLM elementwise.cc; definition in
float_unary.py)."""
from __future__ import annotations


from .float_unary import FloatUnaryBase
from .registry import register


@register
class Square(FloatUnaryBase):
    kind = "SQUARE"
    tflite_options = "SquareOptions"
    FUNC = staticmethod(lambda x: x * x)
