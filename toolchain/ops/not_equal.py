"""NOT_EQUAL: element-wise comparison to a bool tensor, broadcast (definition in comparison.py)."""
from __future__ import annotations

from .comparison import NUMERIC, ComparisonBase
from .registry import register

DTYPES = NUMERIC + ("bool",)      # TFLM compares bools for EQUAL and NOT_EQUAL


@register
class NotEqual(ComparisonBase):
    kind = "NOT_EQUAL"
    tflite_options = "NotEqualOptions"
    DTYPES = DTYPES
