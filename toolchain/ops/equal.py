"""EQUAL: element-wise comparison to a bool tensor, broadcast (definition in comparison.py)."""
from __future__ import annotations

from .comparison import NUMERIC, ComparisonBase
from .registry import register

DTYPES = NUMERIC + ("bool",)      # TFLM compares bools for EQUAL and NOT_EQUAL


@register
class Equal(ComparisonBase):
    kind = "EQUAL"
    tflite_options = "EqualOptions"
    DTYPES = DTYPES
